import Foundation
import Admission
import ImagePolicy

/// A kyverno CLI Values spec (`cli.kyverno.io/v1alpha1 Values` file named by `variables:` / `--values-file`, or a
/// Test's inline `values:`): namespace labels for `namespaceSelector`, and variables for preconditions and conditions.
/// As `kyverno test` (v1.15, without clusterResources) does, a namespace listed nowhere has no labels.
public struct KyvernoValues: Sendable {
    /// By namespace name: `namespaceSelector[].labels`, overridden by `namespaces[]` objects' labels.
    public var namespaceLabels: [String: [String: String]] = [:]
    /// `globalValues`, by dotted variable name.
    public var global: [String: JSONValue] = [:]
    /// `policies[].resources[]`: policy name → resource name → values.
    public var resources: [String: [String: [String: JSONValue]]] = [:]
    /// `policies[].rules[]`: policy name → rule name → values.
    public var rules: [String: [String: [String: JSONValue]]] = [:]

    public init() {}

    public typealias Failure = KyvernoTest.Failure

    /// A Values file: the `cli.kyverno.io/v1alpha1 Values` form, or the older form without apiVersion/kind.
    public static func load(file: String) throws -> KyvernoValues {
        guard let data = FileManager.default.contents(atPath: file) else { throw Failure("\(file): cannot read") }
        let docs: [JSONValue?]
        do { docs = try YAMLDocuments.parse(String(decoding: data, as: UTF8.self)) } catch { throw Failure("\(file): \(error)") }
        let objects = docs.compactMap { $0 }.filter { !$0.isNull }
        guard objects.count == 1, var root = objects[0].objectValue else { throw Failure("\(file): expected one Values document") }
        if let apiVersion = root.removeValue(forKey: "apiVersion") {
            let kind = root.removeValue(forKey: "kind")
            guard apiVersion == "cli.kyverno.io/v1alpha1", kind == "Values" else {
                throw Failure("\(file): apiVersion/kind: want cli.kyverno.io/v1alpha1 Values, got \(apiVersion.stringValue ?? "?") \(kind?.stringValue ?? "(no kind)")")
            }
            root["metadata"] = nil
        }
        return try parse(.object(root), at: file)
    }

    /// A ValuesSpec object; unknown fields are errors (the kyverno CLI reads these strictly).
    public static func parse(_ spec: JSONValue, at location: String) throws -> KyvernoValues {
        guard let o = spec.objectValue else { throw Failure("\(location): expected an object, got \(spec.typeName)") }
        let known: Set<String> = ["globalValues", "policies", "namespaceSelector", "namespaces", "subresources"]
        if let unknown = o.keys.sorted().first(where: { !known.contains($0) }) { throw Failure("\(location).\(unknown): unknown field") }
        if let subs = o["subresources"]?.arrayValue, !subs.isEmpty {
            throw Failure("\(location).subresources: not supported (sealgate admits whole objects; name the parent kind in match)")
        }
        var v = KyvernoValues()
        v.global = try values(o["globalValues"], at: "\(location).globalValues")
        for (i, p) in try list(o["policies"], at: "\(location).policies").enumerated() {
            let at = "\(location).policies[\(i)]"
            guard let name = p["name"]?.stringValue, !name.isEmpty else { throw Failure("\(at).name: missing") }
            for (j, r) in try list(p["resources"], at: "\(at).resources").enumerated() {
                guard let rn = r["name"]?.stringValue else { throw Failure("\(at).resources[\(j)].name: missing") }
                v.resources[name, default: [:]][rn] = try values(r["values"], at: "\(at).resources[\(j)].values")
            }
            for (j, r) in try list(p["rules"], at: "\(at).rules").enumerated() {
                guard let rn = r["name"]?.stringValue else { throw Failure("\(at).rules[\(j)].name: missing") }
                if let fe = r["foreachValues"]?.objectValue, !fe.isEmpty {
                    throw Failure("\(at).rules[\(j)].foreachValues: not supported (foreach is not part of verifyImages rules)")
                }
                v.rules[name, default: [:]][rn] = try values(r["values"], at: "\(at).rules[\(j)].values")
            }
        }
        for (i, n) in try list(o["namespaceSelector"], at: "\(location).namespaceSelector").enumerated() {
            guard let name = n["name"]?.stringValue, !name.isEmpty else { throw Failure("\(location).namespaceSelector[\(i)].name: missing") }
            v.namespaceLabels[name] = (n["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        }
        for (i, n) in try list(o["namespaces"], at: "\(location).namespaces").enumerated() {
            guard let name = n["metadata"]?["name"]?.stringValue, !name.isEmpty else { throw Failure("\(location).namespaces[\(i)].metadata.name: missing") }
            v.namespaceLabels[name] = (n["metadata"]?["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        }
        return v
    }

    /// `globalValues` `request.operation` (CREATE, UPDATE, DELETE), which the kyverno CLI uses as the operation.
    public var operation: String? { global["request.operation"]?.stringValue?.uppercased() }

    /// The request context for `resource`: namespace labels (as given, else none), and the variables.
    public func apply(to context: inout AdmissionContext, resourceName: String) {
        if let ns = context.namespace { context.namespaceLabels = namespaceLabels[ns] ?? context.namespaceLabels }
        context.variables = global
        for (policy, byResource) in resources { if let own = byResource[resourceName] { context.policyVariables[policy] = own } }
        for (policy, byRule) in rules { for (rule, own) in byRule { context.policyVariables["\(policy)/\(rule)"] = own } }
    }

    static func list(_ value: JSONValue?, at: String) throws -> [JSONValue] {
        guard let value, !value.isNull else { return [] }
        guard let items = value.arrayValue else { throw Failure("\(at): expected a list, got \(value.typeName)") }
        return items
    }

    static func values(_ value: JSONValue?, at: String) throws -> [String: JSONValue] {
        guard let value, !value.isNull else { return [:] }
        guard let o = value.objectValue else { throw Failure("\(at): expected a map, got \(value.typeName)") }
        return o
    }
}

/// A kyverno CLI UserInfo file (`cli.kyverno.io/v1alpha1 UserInfo`, or the older form): the requesting user,
/// and the roles it holds (`request.roles` / `request.clusterRoles` in conditions).
public enum KyvernoUserInfo {
    public static func load(file: String) throws -> RequestUser {
        guard let data = FileManager.default.contents(atPath: file) else { throw KyvernoTest.Failure("\(file): cannot read") }
        let docs: [JSONValue?]
        do { docs = try YAMLDocuments.parse(String(decoding: data, as: UTF8.self)) } catch { throw KyvernoTest.Failure("\(file): \(error)") }
        guard let root = docs.compactMap({ $0 }).first(where: { !$0.isNull })?.objectValue else { throw KyvernoTest.Failure("\(file): expected a UserInfo document") }
        if let apiVersion = root["apiVersion"] {
            guard apiVersion == "cli.kyverno.io/v1alpha1", root["kind"] == "UserInfo" else {
                throw KyvernoTest.Failure("\(file): apiVersion/kind: want cli.kyverno.io/v1alpha1 UserInfo")
            }
        }
        let known: Set<String> = ["apiVersion", "kind", "metadata", "roles", "clusterRoles", "userInfo"]
        if let unknown = root.keys.sorted().first(where: { !known.contains($0) }) { throw KyvernoTest.Failure("\(file): \(unknown): unknown field") }
        let info = root["userInfo"]
        var user = RequestUser(json: info) ?? RequestUser(username: "")
        user.roles = (root["roles"]?.arrayValue ?? []).compactMap(\.stringValue)
        user.clusterRoles = (root["clusterRoles"]?.arrayValue ?? []).compactMap(\.stringValue)
        return user
    }
}

/// What `sealgate test` / `apply` add to each request's policy context, as the kyverno CLI does: Values
/// (namespace labels, variables), the UserInfo file's user, and (apply) the labels of Namespace objects given
/// among the resources, as `kyverno apply --cluster` reads them from the cluster. Values win over those objects.
public struct RequestSetting: Sendable {
    public var values: KyvernoValues
    public var user: RequestUser?
    public var clusterNamespaces: [String: [String: String]]

    public init(values: KyvernoValues?, user: RequestUser?, clusterNamespaces: [String: [String: String]] = [:]) {
        self.values = values ?? KyvernoValues()
        self.user = user
        self.clusterNamespaces = clusterNamespaces
    }

    /// Labels of the Namespace objects among `requests`.
    public static func namespaces(in requests: [AdmissionRequest]) -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        for r in requests where r.kind.kind == "Namespace" && r.kind.group.isEmpty {
            guard let name = r.object?["metadata"]?["name"]?.stringValue else { continue }
            out[name] = (r.object?["metadata"]?["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        }
        return out
    }

    /// `globalValues` `request.operation` becomes the request's operation.
    public func prepare(_ request: AdmissionRequest) -> AdmissionRequest {
        var r = request
        if let op = values.operation { r.operation = op }
        return r
    }

    public func adjust(_ request: AdmissionRequest, _ context: inout AdmissionContext) {
        if let ns = request.namespace, let labels = clusterNamespaces[ns] { context.namespaceLabels = labels }
        values.apply(to: &context, resourceName: request.object?["metadata"]?["name"]?.stringValue ?? request.name ?? "")
        if let user { context.user = user }
    }
}
