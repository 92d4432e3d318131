import Foundation
import SealgateCore
import HTTP1Client

/// A resource type served by the API server.
public struct KubeResource: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var version: String
    public var plural: String
    public var kind: String

    public init(group: String, version: String, plural: String, kind: String) {
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
    }

    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// Collection path across all namespaces (or the cluster-scoped collection).
    public var collectionPath: String { (group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)") + "/\(plural)" }
    public var description: String { group.isEmpty ? plural : "\(plural).\(group)" }
}

/// An API error: HTTP status plus the `Status` object's reason and message when the server sent one.
public struct KubeError: Error, CustomStringConvertible {
    public var code: Int
    public var reason: String
    public var message: String
    public var description: String { "\(code) \(reason): \(message)" }

    public static func transport(_ message: String) -> KubeError { KubeError(code: 0, reason: "Transport", message: message) }
    public var isGone: Bool { code == 410 }

    static func from(status: Int, body: [UInt8], what: String) -> KubeError {
        let object = try? JSONDecoder().decode(JSONValue.self, from: Data(body))
        let reason = object?["reason"]?.stringValue ?? "HTTP \(status)"
        let message = object?["message"]?.stringValue ?? String(decoding: body.prefix(200), as: UTF8.self)
        return KubeError(code: status, reason: reason, message: "\(what): \(message)")
    }
}

/// Blocking Kubernetes API calls over the registry HTTP/1.1 client (TLS trusting only the cluster CA).
public final class KubeClient: @unchecked Sendable {
    public let config: KubeConfig
    private let http: HTTPClient
    private let endpoint: Endpoint
    /// Seconds allowed for an ordinary request.
    public var requestTimeout: Double = 15

    public init(config: KubeConfig) throws {
        self.config = config
        let identity = config.credentials.tlsClientIdentity
        do {
            http = try HTTPClient(tls: TLSClientOptions(systemRoots: config.caPEM == nil, caPEM: config.caPEM,
                                                        clientCertificatePEM: identity?.0, clientKeyPEM: identity?.1))
        } catch {
            throw KubeError.transport("TLS setup for \(config.host):\(config.port): \(error)")
        }
        endpoint = Endpoint(host: config.host, port: config.port, secure: true)
    }

    func headers(accept: String = "application/json") throws -> [(String, String)] {
        var h = [("accept", accept)]
        do {
            if let token = try config.credentials.bearerToken() { h.append(("authorization", "Bearer \(token)")) }
        } catch {
            throw KubeError.transport(error.description)
        }
        return h
    }

    /// GET a JSON object.
    public func get(_ path: String) throws -> JSONValue {
        try request("GET", path)
    }

    /// POST a JSON object; returns the created object.
    @discardableResult
    public func post(_ path: String, _ object: JSONValue) throws -> JSONValue {
        let body = try JSONEncoder().encode(object)
        return try request("POST", path, body: Array(body))
    }

    func request(_ method: String, _ path: String, body: [UInt8] = []) throws -> JSONValue {
        var h = try headers()
        if !body.isEmpty { h.append(("content-type", "application/json")) }
        let response: HTTPResponse
        do {
            response = try http.send(endpoint, method: method, target: config.basePath + path, headers: h, body: body,
                                     maxBody: 64 << 20, deadline: .after(seconds: requestTimeout))
        } catch {
            throw KubeError.transport("\(method) \(path): \(error)")
        }
        guard (200..<300).contains(response.status) else {
            throw KubeError.from(status: response.status, body: response.body, what: "\(method) \(path)")
        }
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(response.body))
        } catch {
            throw KubeError(code: response.status, reason: "BadResponse", message: "\(method) \(path): response is not JSON: \(error)")
        }
    }

    /// One page of a list: the items and the collection's resourceVersion.
    public func list(_ resource: KubeResource) throws -> (items: [JSONValue], resourceVersion: String) {
        let list = try get(resource.collectionPath)
        guard let items = list["items"]?.arrayValue ?? (list["items"]?.isNull == true ? [] : nil) else {
            throw KubeError(code: 200, reason: "BadResponse", message: "list \(resource): no items array")
        }
        guard let rv = list["metadata"]?["resourceVersion"]?.stringValue else {
            throw KubeError(code: 200, reason: "BadResponse", message: "list \(resource): no metadata.resourceVersion")
        }
        return (items, rv)
    }

    /// Starts a watch from `resourceVersion`; events are read from the returned stream.
    public func watch(_ resource: KubeResource, resourceVersion: String, timeoutSeconds: Int) throws -> WatchStream {
        let query = "watch=true&allowWatchBookmarks=true&resourceVersion=\(resourceVersion.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")&timeoutSeconds=\(timeoutSeconds)"
        let path = resource.collectionPath + "?" + query
        let stream: HTTPStream
        do {
            stream = try http.openStream(endpoint, method: "GET", target: config.basePath + path, headers: try headers(),
                                         deadline: .after(seconds: requestTimeout))
        } catch let error as KubeError {
            throw error
        } catch {
            throw KubeError.transport("watch \(resource): \(error)")
        }
        guard stream.status == 200 else {
            let body = (try? stream.readAll(maxBody: 1 << 20, deadline: .after(seconds: requestTimeout))) ?? []
            throw KubeError.from(status: stream.status, body: body, what: "watch \(resource)")
        }
        return WatchStream(stream: stream, resource: resource)
    }
}
