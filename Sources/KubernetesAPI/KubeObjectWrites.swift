import Foundation
import SealgateCore

/// Object-level verbs on one named object or a namespaced collection: get, create (POST), update (PUT, with the
/// object's resourceVersion for optimistic concurrency: 409 Conflict when someone wrote in between) and delete.
/// `fieldManager` names the writer, as the API server records it in managedFields.
extension KubeClient {
    /// The object, or nil when it does not exist (404).
    public func getObject(_ resource: KubeResource, namespace: String?, name: String) throws -> JSONValue? {
        do {
            return try request("GET", resource.objectPath(namespace: namespace, name: name))
        } catch let error as KubeError where error.code == 404 {
            return nil
        }
    }

    /// The objects of one namespace (or, with nil, of the cluster-scoped collection).
    public func listObjects(_ resource: KubeResource, namespace: String?) throws -> [JSONValue] {
        let list = try request("GET", resource.collectionPath(namespace: namespace))
        guard let items = list["items"]?.arrayValue ?? (list["items"]?.isNull == true ? [] : nil) else {
            throw KubeError(code: 200, reason: "BadResponse", message: "list \(resource) in \(namespace ?? "the cluster"): no items array")
        }
        return items
    }

    /// POST: the created object (409 AlreadyExists is thrown as a KubeError).
    @discardableResult
    public func create(_ resource: KubeResource, namespace: String?, _ object: JSONValue, fieldManager: String) throws -> JSONValue {
        try request("POST", resource.collectionPath(namespace: namespace) + Self.managerQuery(fieldManager), body: try Self.encode(object))
    }

    /// PUT: the stored object. The body's `metadata.resourceVersion` makes it conditional (409 Conflict if stale).
    @discardableResult
    public func update(_ resource: KubeResource, namespace: String?, name: String, _ object: JSONValue, fieldManager: String) throws -> JSONValue {
        try request("PUT", resource.objectPath(namespace: namespace, name: name) + Self.managerQuery(fieldManager), body: try Self.encode(object))
    }

    /// DELETE; an object already gone is not an error.
    public func deleteObject(_ resource: KubeResource, namespace: String?, name: String, fieldManager: String) throws {
        do {
            _ = try request("DELETE", resource.objectPath(namespace: namespace, name: name) + Self.managerQuery(fieldManager))
        } catch let error as KubeError where error.code == 404 {
            return
        }
    }

    static func managerQuery(_ manager: String) -> String {
        "?fieldManager=" + (manager.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "sealgate")
    }

    static func encode(_ object: JSONValue) throws -> [UInt8] {
        do { return Array(try JSONEncoder().encode(object)) } catch {
            throw KubeError(code: 0, reason: "BadRequest", message: "cannot encode the object: \(error)")
        }
    }
}

extension KubeResource {
    /// The collection in one namespace, or the cluster-scoped collection when `namespace` is nil.
    public func collectionPath(namespace: String?) -> String {
        let base = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        guard let namespace else { return base + "/\(plural)" }
        return base + "/namespaces/\(Self.segment(namespace))/\(plural)"
    }

    public func objectPath(namespace: String?, name: String) -> String {
        collectionPath(namespace: namespace) + "/" + Self.segment(name)
    }

    /// A name as one path segment (names are DNS labels; anything else is escaped, never a path separator).
    static func segment(_ name: String) -> String {
        name.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._"))) ?? name
    }
}
