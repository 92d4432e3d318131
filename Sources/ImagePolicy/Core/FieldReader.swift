/// Strict reader over one JSON object of a policy document. Every accessor records the key as
/// known; `finish()` reports any key nobody asked for, so unknown fields are errors, not skips.
/// A `null` value counts as absent (YAML `key:` with nothing after it).
struct FieldReader {
    let object: [String: JSONValue]
    let path: String
    let diags: Diagnostics
    private let consumed: Box = Box()

    final class Box { var keys: Set<String> = [] }

    init(_ object: [String: JSONValue], path: String, diags: Diagnostics) {
        self.object = object
        self.path = path
        self.diags = diags
    }

    /// Reader for `value` if it is an object, else an error at `path`.
    static func make(_ value: JSONValue, path: String, diags: Diagnostics) -> FieldReader? {
        guard case .object(let o) = value else {
            diags.error(path, "expected an object, got \(value.typeName)")
            return nil
        }
        return FieldReader(o, path: path, diags: diags)
    }

    func at(_ key: String) -> String { FieldPath.child(path, key) }

    func has(_ key: String) -> Bool {
        if let v = object[key], !v.isNull { return true }
        return false
    }

    func raw(_ key: String) -> JSONValue? {
        consumed.keys.insert(key)
        guard let v = object[key], !v.isNull else { return nil }
        return v
    }

    /// Marks keys as accepted without reading them (fields that are valid but irrelevant here).
    func ignore(_ keys: String...) { for k in keys { consumed.keys.insert(k) } }

    func string(_ key: String) -> String? {
        guard let v = raw(key) else { return nil }
        switch v {
        case .string(let s): return s
        default:
            diags.error(at(key), "expected a string, got \(v.typeName)")
            return nil
        }
    }

    func bool(_ key: String) -> Bool? {
        guard let v = raw(key) else { return nil }
        if case .bool(let b) = v { return b }
        diags.error(at(key), "expected a boolean, got \(v.typeName)")
        return nil
    }

    func int(_ key: String) -> Int? {
        guard let v = raw(key) else { return nil }
        if case .number(let n) = v, n == n.rounded(), abs(n) < 1e12 { return Int(n) }
        diags.error(at(key), "expected an integer, got \(v.jsonString)")
        return nil
    }

    func object(_ key: String) -> FieldReader? {
        guard let v = raw(key) else { return nil }
        return FieldReader.make(v, path: at(key), diags: diags)
    }

    /// Array elements with their paths (`key[i]`).
    func array(_ key: String) -> [(value: JSONValue, path: String)]? {
        guard let v = raw(key) else { return nil }
        guard case .array(let a) = v else {
            diags.error(at(key), "expected a list, got \(v.typeName)")
            return nil
        }
        return a.enumerated().map { (value: $0.element, path: FieldPath.index(at(key), $0.offset)) }
    }

    func objects(_ key: String) -> [FieldReader]? {
        array(key)?.compactMap { FieldReader.make($0.value, path: $0.path, diags: diags) }
    }

    func strings(_ key: String) -> [String]? {
        guard let items = array(key) else { return nil }
        var out: [String] = []
        for item in items {
            if case .string(let s) = item.value { out.append(s) } else {
                diags.error(item.path, "expected a string, got \(item.value.typeName)")
            }
        }
        return out
    }

    func stringMap(_ key: String) -> [String: String]? {
        guard let r = object(key) else { return nil }
        var out: [String: String] = [:]
        for (k, v) in r.object {
            r.consumed.keys.insert(k)
            switch v {
            case .string(let s): out[k] = s
            case .number, .bool: out[k] = v.jsonString
            default: diags.error(r.at(k), "expected a string, got \(v.typeName)")
            }
        }
        return out
    }

    /// Reports keys that were never read.
    /// A policy document's `spec` (its `status` is the cluster's, not the author's), with the document's
    /// other top-level fields checked; nil, with the error recorded, when it has none.
    func documentSpec() -> FieldReader? {
        ignore("status")
        guard let spec = object("spec") else {
            diags.error("spec", "missing field(s): spec")
            return nil
        }
        finish()
        return spec
    }

    func finish() {
        for key in object.keys.sorted() where !consumed.keys.contains(key) {
            diags.error(at(key), "unknown field \"\(key)\"")
        }
    }
}
