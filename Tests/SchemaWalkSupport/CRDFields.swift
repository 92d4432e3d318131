import Foundation
import TestSupport
@testable import ImagePolicy

/// One field of an upstream CRD schema: its path (`spec.rules[].match`, `[]` for list items, `{}` for map values)
/// and the schema node that describes it.
public struct CRDField {
    public var path: String
    public var schema: JSONValue

    /// A value of the schema's type: a string (the first `enum` value if there is one), `true`, `1`, an object
    /// (one `x` entry when it is a map), or a list of one such item.
    public var sampleValue: JSONValue { Self.sample(schema) }

    public static func sample(_ schema: JSONValue) -> JSONValue {
        switch schema["type"]?.stringValue {
        case "string": return schema["enum"]?.arrayValue?.first ?? .string("x")
        case "boolean": return .bool(true)
        case "integer", "number": return .number(1)
        case "array": return .array([sample(schema["items"] ?? .object([:]))])
        default:
            if let values = schema["additionalProperties"], values.objectValue != nil { return .object(["x": sample(values)]) }
            return .object([:])
        }
    }
}

/// The kinds and served versions an upstream CRD file defines, with every field path of each version.
public struct CRDKind {
    public var kind: String
    public var group: String
    public var version: String
    public var fields: [CRDField]

    public var apiVersion: String { "\(group)/\(version)" }
    public var paths: Set<String> { Set(fields.map(\.path)) }
}

public enum CRDSchemas {
    public static let policyController = TestPaths.sharedTestdata.appendingPathComponent("policy-controller/crds")
    public static let kyverno = TestPaths.sharedTestdata.appendingPathComponent("kyverno/crds")

    /// The CRD files the schema walk covers (ClusterPolicy's schema is also the namespaced Policy's).
    public static let files: [URL] = [
        policyController.appendingPathComponent("300-clusterimagepolicy.yaml"),
        policyController.appendingPathComponent("300-trustroot.yaml"),
        kyverno.appendingPathComponent("kyverno.io_clusterpolicies.yaml"),
        kyverno.appendingPathComponent("policies.kyverno.io_imagevalidatingpolicies.yaml"),
        kyverno.appendingPathComponent("policies.kyverno.io_namespacedimagevalidatingpolicies.yaml"),
        kyverno.appendingPathComponent("policies.kyverno.io_policyexceptions.yaml"),
    ]

    public static var missingFiles: [String] { files.map(\.path).filter { !FileManager.default.fileExists(atPath: $0) } }

    /// Every (kind, version) of the files, read with Yams (through the loader's YAML reader). `Policy` is added
    /// with ClusterPolicy's schema.
    public static func load() throws -> [CRDKind] {
        var kinds: [CRDKind] = []
        for file in files {
            for doc in try YAMLDocuments.parse(try String(contentsOf: file, encoding: .utf8)) {
                guard let spec = doc?["spec"], let kind = spec["names"]?["kind"]?.stringValue,
                      let group = spec["group"]?.stringValue else { continue }
                for version in spec["versions"]?.arrayValue ?? [] {
                    guard let name = version["name"]?.stringValue, let schema = version["schema"]?["openAPIV3Schema"] else { continue }
                    var fields: [CRDField] = []
                    walk(schema, path: "", into: &fields)
                    kinds.append(CRDKind(kind: kind, group: group, version: name, fields: fields))
                    if kind == "ClusterPolicy" {
                        kinds.append(CRDKind(kind: "Policy", group: group, version: name, fields: fields))
                    }
                }
            }
        }
        return kinds
    }

    /// Properties recursively; `[]` descends into list items, `{}` into map values.
    public static func walk(_ schema: JSONValue, path: String, into fields: inout [CRDField]) {
        for (key, child) in (schema["properties"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            let p = path.isEmpty ? key : "\(path).\(key)"
            fields.append(CRDField(path: p, schema: child))
            walk(child, path: p, into: &fields)
        }
        if let items = schema["items"], items.objectValue != nil { walk(items, path: path + "[]", into: &fields) }
        if let values = schema["additionalProperties"], values.objectValue != nil { walk(values, path: path + "{}", into: &fields) }
    }
}
