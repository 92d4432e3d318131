import Foundation
import HTTP1Client
import Registry
import SealgateCore
import TUF

/// Where trust data lives and how to reach it: `GET /v2/<gun>/_trust/tuf/<role>.json` on a notary server, over
/// TLS (system roots plus an optional CA, Connaisseur's `cert`). A 401 with `WWW-Authenticate: Bearer realm=…` is
/// answered like a registry's: a token for `repository:<gun>:pull` from the realm, with Basic credentials if set.
public final class NotaryServer: @unchecked Sendable {
    public let url: URL
    private let endpoint: Endpoint
    private let basePath: String
    private let credentials: Credential?
    private let http: HTTPClient
    private let lock = NSLock()
    private var tokens: [String: (token: String, expires: Double)] = [:]

    /// `server` is a URL (`https://notary.example:4443`) or a bare host (Connaisseur's `host: notary.docker.io`), which means https.
    public init(server: String, caPEM: Data? = nil, credentials: Credential? = nil) throws {
        let text = server.contains("://") ? server : "https://\(server)"
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http", let host = url.host else {
            throw NotaryConfigurationError("notary server \"\(server)\" is not an http(s) URL or host name")
        }
        let secure = scheme == "https"
        self.url = url
        endpoint = Endpoint(host: host, port: UInt16(url.port ?? (secure ? 443 : 80)), secure: secure)
        basePath = url.path.hasSuffix("/") ? String(url.path.dropLast()) : url.path
        self.credentials = credentials
        do { http = try HTTPClient(tls: TLSClientOptions(systemRoots: true, caPEM: caPEM)) } catch {
            throw NotaryConfigurationError("notary server \(server): TLS setup: \(error)")
        }
    }

    public var name: String { url.absoluteString }

    /// The bytes of `<role>.json`, at most `maxBytes`; nil when the server has no such file (404).
    public func fetch(gun: String, role: String, maxBytes: Int, deadline: Deadline) throws -> Data? {
        let target = "\(basePath)/v2/\(gun)/_trust/tuf/\(role).json"
        let scope = "repository:\(gun):pull"
        var authorization = cachedToken(scope).map { "Bearer \($0)" }
        for attempt in 0..<2 {
            var headers: [(String, String)] = [("accept", "application/json")]
            if let authorization { headers.append(("authorization", authorization)) }
            let response = try send(endpoint, target: target, headers: headers, maxBody: maxBytes, deadline: deadline, what: "\(role).json")
            switch response.status {
            case 200: return Data(response.body)
            case 404: return nil
            case 401 where attempt == 0:
                authorization = try answer(response, scope: scope, deadline: deadline)
            case 401, 403: throw NotaryError.unauthorized(server: name, detail: "\(role).json answered \(response.status)")
            default: throw NotaryError.unreachable(server: name, detail: "\(role).json answered HTTP \(response.status)")
            }
        }
        throw NotaryError.unauthorized(server: name, detail: "\(role).json still answered 401 with a token")
    }

    private func answer(_ response: HTTPResponse, scope: String, deadline: Deadline) throws -> String {
        guard let header = response.header("www-authenticate"), let challenge = Authenticator.parseChallenge(header) else {
            throw NotaryError.unauthorized(server: name, detail: "401 without a usable WWW-Authenticate challenge")
        }
        switch challenge.scheme {
        case "basic":
            guard let credentials else { throw NotaryError.unauthorized(server: name, detail: "server wants credentials and none are configured") }
            return credentials.basicAuthorization
        case "bearer":
            return "Bearer " + (try token(challenge, scope: scope, deadline: deadline))
        default:
            throw NotaryError.unauthorized(server: name, detail: "auth scheme \"\(challenge.scheme)\" is not supported")
        }
    }

    private func token(_ challenge: Authenticator.Challenge, scope: String, deadline: Deadline) throws -> String {
        guard let (realmEndpoint, target, realm) = BearerToken.request(challenge, scope: scope) else {
            throw NotaryError.unauthorized(server: name, detail: "Bearer challenge without a valid realm")
        }
        // Credentials never travel in clear text; an anonymous token may come over http (loopback test servers).
        guard realmEndpoint.secure || credentials == nil else {
            throw NotaryError.unauthorized(server: name, detail: "refusing to send credentials to non-TLS realm \(realm)")
        }
        var headers: [(String, String)] = []
        if let credentials { headers.append(("authorization", credentials.basicAuthorization)) }
        let response = try send(realmEndpoint, target: target, headers: headers, maxBody: 1 << 20, deadline: deadline, what: "token")
        guard response.status == 200 else {
            throw NotaryError.unauthorized(server: name, detail: "token server \(realmEndpoint.host) answered \(response.status)")
        }
        guard let (token, expiresIn) = BearerToken.token(from: response.body) else {
            throw NotaryError.unauthorized(server: name, detail: "token response has no token")
        }
        lock.lock()
        tokens[scope] = (token, Deadline.now() + max(0, expiresIn - 10))
        lock.unlock()
        return token
    }

    private func cachedToken(_ scope: String) -> String? {
        lock.lock(); defer { lock.unlock() }
        guard let t = tokens[scope], t.expires > Deadline.now() else { return nil }
        return t.token
    }


    private func send(_ endpoint: Endpoint, target: String, headers: [(String, String)], maxBody: Int, deadline: Deadline,
                      what: String) throws -> HTTPResponse {
        guard !deadline.hasPassed else { throw NotaryError.unreachable(server: name, detail: "deadline passed before fetching \(what)") }
        do {
            return try http.send(endpoint, method: "GET", target: target, headers: headers, maxBody: maxBody, deadline: deadline)
        } catch HTTPClientError.tooLarge {
            throw TUFError.tooLarge(name: what, limit: maxBody)
        } catch {
            throw NotaryError.unreachable(server: name, detail: "\(what): \(error)")
        }
    }
}

public struct NotaryConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}
