import Foundation
import HTTP1Client

/// Fetches over HTTP(S) with the registry client (OpenSSL, system roots plus an optional CA bundle), reading at most
/// `maxBytes` of body, following a few redirects (CDNs and GitHub Pages mirrors use them). `file://` URLs are
/// served from disk so one updater works for mirrors and unpacked repositories alike.
public struct HTTPFetcher: TUFFetcher, @unchecked Sendable {
    private let client: HTTPClient
    private let timeout: Double
    private let maxRedirects = 5

    public init(caBundlePEM: Data? = nil, timeoutSeconds: Double = 30) throws {
        client = try HTTPClient(tls: TLSClientOptions(systemRoots: true, caPEM: caBundlePEM))
        timeout = timeoutSeconds
    }

    public func fetch(url: URL, maxBytes: Int) throws -> Data {
        if url.isFileURL { return try FileFetcher().fetch(url: url, maxBytes: maxBytes) }
        var current = url
        for _ in 0...maxRedirects {
            guard let scheme = current.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = current.host else {
                throw FetchError.failed(current, "only http, https and file URLs are supported")
            }
            let secure = scheme == "https"
            let port = UInt16(current.port ?? (secure ? 443 : 80))
            var target = current.path(percentEncoded: true)
            if target.isEmpty { target = "/" }
            if let q = current.query(percentEncoded: true) { target += "?\(q)" }
            let response: HTTPResponse
            do {
                response = try client.send(Endpoint(host: host, port: port, secure: secure), method: "GET", target: target,
                                           headers: [("accept", "*/*")], maxBody: maxBytes, deadline: .after(seconds: timeout))
            } catch HTTPClientError.tooLarge {
                throw FetchError.tooLarge(current, limit: maxBytes)
            } catch {
                throw FetchError.failed(current, "\(error)")
            }
            switch response.status {
            case 200: return Data(response.body)
            case 403, 404: throw FetchError.notFound(current)
            case 301, 302, 303, 307, 308:
                guard let location = response.header("location"), let next = URL(string: location, relativeTo: current)?.absoluteURL else {
                    throw FetchError.failed(current, "redirect without a usable location")
                }
                current = next
            default:
                throw FetchError.failed(current, "HTTP status \(response.status)")
            }
        }
        throw FetchError.failed(url, "more than \(maxRedirects) redirects")
    }
}
