import Foundation

/// One HTTP request as handed to the application, whatever the wire protocol.
public struct Request: Sendable {
    public enum Version: String, Sendable { case http1_1 = "HTTP/1.1", h2 = "HTTP/2" }

    public var method: String
    /// Path without the query string, e.g. `/validate`.
    public var path: String
    /// Raw query string without `?`, empty when absent.
    public var query: String
    /// Header names are lower-cased; order is kept.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public var version: Version
    public var remoteAddress: String

    public init(method: String, path: String, query: String = "", headers: [(name: String, value: String)] = [],
                body: [UInt8] = [], version: Version = .h2, remoteAddress: String = "") {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.version = version
        self.remoteAddress = remoteAddress
    }

    /// First value of a header (name compared case-insensitively).
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name == lower }?.value
    }

    /// Value of one query parameter (no percent-decoding beyond `+`; admission parameters are plain).
    public func queryParameter(_ name: String) -> String? {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.first.map(String.init) == name {
                return parts.count > 1 ? String(parts[1]).removingPercentEncoding ?? String(parts[1]) : ""
            }
        }
        return nil
    }
}

/// The application's answer.
public struct Response: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func text(_ status: Int, _ message: String) -> Response {
        Response(status: status, headers: [("content-type", "text/plain; charset=utf-8")], body: Array((message + "\n").utf8))
    }

    public static func json(_ status: Int, _ body: [UInt8]) -> Response {
        Response(status: status, headers: [("content-type", "application/json")], body: body)
    }

    /// A small JSON error body `{"error": "..."}`.
    public static func jsonError(_ status: Int, _ message: String) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: ["error": message], options: [.sortedKeys])) ?? Data()
        return json(status, Array(data))
    }
}

/// Standard reason phrases for the status codes the server itself produces.
func reasonPhrase(_ status: Int) -> String {
    switch status {
    case 200: "OK"
    case 204: "No Content"
    case 400: "Bad Request"
    case 404: "Not Found"
    case 405: "Method Not Allowed"
    case 408: "Request Timeout"
    case 411: "Length Required"
    case 413: "Content Too Large"
    case 415: "Unsupported Media Type"
    case 429: "Too Many Requests"
    case 431: "Request Header Fields Too Large"
    case 500: "Internal Server Error"
    case 503: "Service Unavailable"
    case 505: "HTTP Version Not Supported"
    default: "Status \(status)"
    }
}
