import Foundation
@testable import ImagePolicy

/// Minimal valid documents of each kind, and the same with one CRD field path set.
enum FieldDocuments {
    enum Step: Equatable { case key(String), index, mapKey }

    /// `spec.rules[].imageExtractors{}[].path` → key spec, key rules, index, key imageExtractors, mapKey, index, key path.
    static func steps(_ path: String) -> [Step] {
        var out: [Step] = []
        for token in path.split(separator: ".") {
            var name = Substring(token)
            var suffix: [Step] = []
            while name.hasSuffix("[]") || name.hasSuffix("{}") {
                suffix.insert(name.hasSuffix("[]") ? .index : .mapKey, at: 0)
                name = name.dropLast(2)
            }
            out.append(.key(String(name)))
            out += suffix
        }
        return out
    }

    /// The path the loader reports for the field in a document built by `setting`: `[]` → `[0]`, `{}` → `.x`.
    static func concretePath(_ path: String) -> String {
        steps(path).reduce("") { p, step in
            switch step {
            case .key(let k): FieldPath.child(p, k)
            case .index: FieldPath.index(p, 0)
            case .mapKey: FieldPath.child(p, "x")
            }
        }
    }

    /// `document` with the field at `path` set to `value`; lists get (or keep) a first item, maps an `x` entry.
    static func setting(_ path: String, to value: JSONValue, in document: JSONValue) -> JSONValue {
        set(steps(path)[...], value, in: document, at: "")
    }

    /// Objects created on the way to a field start as these (by the end of their CRD path), so that their
    /// siblings are read: a `keys` attestor reads `rekor`/`ctlog` only once it has a key.
    static let prototypes: [String: JSONValue] = [
        "entries[].keys": ["publicKeys": .string(publicKeyPEM)],
    ]

    static let publicKeyPEM = """
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEoGSZ0kUE9q2H6N3Q3sEY9GGyJmUTlG0Mk+3V8C8mQz4Ng0Q0HmDgkD5mKcVp0aWbGxKpHkWfV3n2aTSR0pLhTg==
        -----END PUBLIC KEY-----
        """

    private static func set(_ steps: ArraySlice<Step>, _ value: JSONValue, in node: JSONValue, at crdPath: String) -> JSONValue {
        guard let step = steps.first else { return value }
        let rest = steps.dropFirst()
        let empty: JSONValue = rest.first == .index ? .array([]) : .object([:])
        switch step {
        case .key, .mapKey:
            var k = "x", childPath = crdPath + "{}"
            if case .key(let name) = step { k = name; childPath = crdPath.isEmpty ? name : "\(crdPath).\(name)" }
            let fresh = prototypes.first { childPath.hasSuffix($0.key) && !rest.isEmpty }?.value ?? empty
            var o = node.objectValue ?? [:]
            o[k] = set(rest, value, in: o[k] ?? fresh, at: childPath)
            return .object(o)
        case .index:
            var a = node.arrayValue ?? []
            if a.isEmpty { a.append(empty) }
            a[0] = set(rest, value, in: a[0], at: crdPath + "[]")
            return .array(a)
        }
    }

    /// A document of `kind` that loads without errors.
    static func base(_ kind: CRDKind) -> JSONValue {
        let meta: JSONValue = kind.kind == "Policy" || kind.kind.hasPrefix("Namespaced") || kind.kind == "PolicyException"
            ? ["name": "compat", "namespace": "default"] : ["name": "compat"]
        return .object(["apiVersion": .string(kind.apiVersion), "kind": .string(kind.kind), "metadata": meta, "spec": spec(kind.kind)])
    }

    static func spec(_ kind: String) -> JSONValue {
        switch kind {
        case "ClusterImagePolicy":
            return ["images": [["glob": "**"]],
                    "authorities": [["keyless": ["identities": [["issuer": "https://issuer.example", "subject": "s"]]]]]]
        case "TrustRoot":
            let pem = Data("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8).base64EncodedString()
            return ["sigstoreKeys": ["certificateAuthorities": [
                ["subject": ["organization": "o", "commonName": "c"], "uri": "https://fulcio.example", "certChain": .string(pem)]]]]
        case "ClusterPolicy", "Policy":
            let keyless: JSONValue = ["subject": "s", "issuer": "i", "rekor": ["url": "https://rekor.sigstore.dev"]]
            return ["validationFailureAction": "Enforce", "rules": [[
                "name": "r",
                "match": ["any": [["resources": ["kinds": ["Pod"]]]]],
                "verifyImages": [["imageReferences": ["*"], "attestors": [["entries": [["keyless": keyless]]]]]],
            ]]]
        case "ImageValidatingPolicy", "NamespacedImageValidatingPolicy":
            return ["validationActions": ["Deny"],
                    "matchConstraints": ["resourceRules": [["apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]]]],
                    "attestors": [["name": "a", "cosign": ["keyless": ["identities": [["issuer": "https://issuer.example", "subject": "s"]]]]]],
                    "validations": [["expression": "true"]]]
        default:
            return .object([:])
        }
    }
}
