import Foundation
import HTTP1Client
import SealgateCore

/// A failed step of a cloud token exchange: names the provider, the endpoint and what went wrong, never a token.
public struct CloudCredentialError: Error, CustomStringConvertible {
    public let description: String
    init(_ provider: String, _ step: String, _ why: String) { description = "\(provider): \(step): \(why)" }
}

/// The few HTTP calls a token exchange makes: one request to a URL, its status checked, its body decoded.
struct CloudHTTP: Sendable {
    let client: HTTPClient
    let provider: String

    struct Reply {
        var status: Int
        var body: [UInt8]
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] }
    }

    /// `url`'s endpoint and request target; https only, except on loopback (the stand-ins, the metadata server).
    func endpoint(_ url: String, step: String) throws -> (endpoint: Endpoint, target: String) {
        guard let parts = URLComponents(string: url), let host = parts.host, let scheme = parts.scheme else {
            throw CloudCredentialError(provider, step, "not a URL: \(url)")
        }
        let secure = scheme == "https"
        guard secure || Self.mayBePlain(host) else {
            throw CloudCredentialError(provider, step, "refusing to send credentials over plain HTTP to \(host)")
        }
        let path = parts.percentEncodedPath.isEmpty ? "/" : parts.percentEncodedPath
        return (Endpoint(host: host, port: UInt16(parts.port ?? (secure ? 443 : 80)), secure: secure),
                path + (parts.percentEncodedQuery.map { "?" + $0 } ?? ""))
    }

    /// Loopback, and the GCE metadata server (reached over plain HTTP by design, link-local).
    static func mayBePlain(_ host: String) -> Bool {
        ["127.0.0.1", "::1", "localhost", "metadata.google.internal", "169.254.169.254"].contains(host)
    }

    func send(_ method: String, _ url: String, headers: [(String, String)] = [], body: [UInt8] = [], step: String,
              deadline: Deadline) throws -> Reply {
        let (endpoint, target) = try self.endpoint(url, step: step)
        do {
            let response = try client.send(endpoint, method: method, target: target, headers: headers, body: body, maxBody: 1 << 20,
                                           deadline: deadline)
            guard (200..<300).contains(response.status) else {
                throw CloudCredentialError(provider, step, "\(endpoint.authority) answered HTTP \(response.status)")
            }
            return Reply(status: response.status, body: response.body)
        } catch let error as CloudCredentialError {
            throw error
        } catch {
            throw CloudCredentialError(provider, step, "\(endpoint.authority) could not be reached: \(error)")
        }
    }

    /// `application/x-www-form-urlencoded` from pairs, in order.
    static func form(_ pairs: [(String, String)]) -> [UInt8] {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return Array(pairs.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&").utf8)
    }
}
