import Foundation
import SealgateCore

/// `patchedResources` checks: the webhook's JSON patch applied to the resource must give the expected
/// resource. The expected file may leave fields out (status, defaults); every field it has must match.
public enum PatchedResource {
    /// nil when `expected` (a file, possibly multi-document; the document of the same kind/name is used) matches
    /// `object` after `patch` (RFC 6902: add, replace, remove), else what differs.
    public static func mismatch(expectedFile: String, object: JSONValue, patch: Data?) -> String? {
        guard let data = FileManager.default.contents(atPath: expectedFile) else { return "cannot read \(expectedFile)" }
        let documents: [JSONValue]
        do { documents = try YAMLDocuments.parse(String(decoding: data, as: UTF8.self)).compactMap { $0 } } catch {
            return "\(expectedFile): \(error)"
        }
        let name = object["metadata"]?["name"], kind = object["kind"]
        guard let expected = documents.first(where: { $0["metadata"]?["name"] == name && $0["kind"] == kind }) else {
            return "\(expectedFile) has no \(kind?.stringValue ?? "") \(name?.stringValue ?? "")"
        }
        let patched: JSONValue
        do { patched = try apply(patch, to: object) } catch { return "cannot apply the patch: \(error)" }
        return difference(expected, patched, path: "")
    }

    struct PatchError: Error, CustomStringConvertible { let description: String }

    public static func apply(_ patch: Data?, to object: JSONValue) throws -> JSONValue {
        guard let patch, !patch.isEmpty else { return object }
        guard let ops = try JSONValue.parse(data: patch).arrayValue else { throw PatchError(description: "patch is not a list") }
        var doc = object
        for op in ops {
            guard let kind = op["op"]?.stringValue, let path = op["path"]?.stringValue else { throw PatchError(description: "operation without op/path") }
            let tokens = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
                $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            }
            switch kind {
            case "add", "replace": doc = try set(doc, Array(tokens), op["value"] ?? .null, insert: kind == "add")
            case "remove": doc = try set(doc, Array(tokens), nil, insert: false)
            default: throw PatchError(description: "unsupported patch op \(kind)")
            }
        }
        return doc
    }

    private static func set(_ doc: JSONValue, _ tokens: [String], _ value: JSONValue?, insert: Bool) throws -> JSONValue {
        guard let head = tokens.first else { return value ?? .null }
        let rest = Array(tokens.dropFirst())
        switch doc {
        case .object(var o):
            if rest.isEmpty { o[head] = value } else {
                guard let child = o[head] else { throw PatchError(description: "no \(head)") }
                o[head] = try set(child, rest, value, insert: insert)
            }
            return .object(o)
        case .array(var a):
            let i = head == "-" ? a.count : Int(head) ?? -1
            guard i >= 0, i <= a.count else { throw PatchError(description: "bad index \(head)") }
            if rest.isEmpty {
                if let value {
                    if insert { a.insert(value, at: i) } else if i < a.count { a[i] = value } else { throw PatchError(description: "bad index \(head)") }
                } else if i < a.count { a.remove(at: i) }
            } else {
                guard i < a.count else { throw PatchError(description: "bad index \(head)") }
                a[i] = try set(a[i], rest, value, insert: insert)
            }
            return .array(a)
        default:
            throw PatchError(description: "path goes through a \(doc.typeName)")
        }
    }

    /// The first field of `expected` that `actual` lacks or has differently.
    static func difference(_ expected: JSONValue, _ actual: JSONValue, path: String) -> String? {
        switch (expected, actual) {
        case (.object(let e), .object(let a)):
            for key in e.keys.sorted() {
                guard let av = a[key] else { return "\(path)/\(key): missing" }
                if let d = difference(e[key]!, av, path: "\(path)/\(key)") { return d }
            }
            return nil
        case (.array(let e), .array(let a)):
            guard e.count == a.count else { return "\(path): \(e.count) items expected, got \(a.count)" }
            for (i, pair) in zip(e, a).enumerated() {
                if let d = difference(pair.0, pair.1, path: "\(path)/\(i)") { return d }
            }
            return nil
        default:
            return expected == actual ? nil : "\(path): want \(expected.jsonString), got \(actual.jsonString)"
        }
    }
}
