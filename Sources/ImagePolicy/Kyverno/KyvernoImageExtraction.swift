import Foundation
import ImageReference

/// Kyverno `imageExtractors` (kyverno pkg/utils/api/image.go): `path` is `/`-separated fields where `*` walks
/// every element of a list or every value of a map; `value` names the field holding the image (default: the
/// path's last field); `jmesPath` turns that string into the image; `key` names the entry (Kyverno's key for
/// it, here only checked to be a string). A kind with extractors in the rule uses only those.
public enum KyvernoImageExtraction {
    public struct Found: Sendable, Equatable {
        public var image: String
        /// RFC 6901 pointer to the field holding the image.
        public var pointer: String
        /// The extractor's `name` (default `custom`).
        public var name: String
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Images `extractors` find in `object`, in document order.
    public static func images(_ extractors: [KyvernoImageExtractor], in object: JSONValue) throws(Failure) -> [Found] {
        var found: [Found] = []
        for e in extractors {
            var fields = e.path.split(separator: "/").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            var value = e.value ?? ""
            if value.isEmpty {
                guard let last = fields.popLast() else { throw Failure(description: "imageExtractors: empty path") }
                value = last
            }
            let jmes: JMESPath?
            do { jmes = try e.jmesPath.map { try JMESPath.compile($0, functions: .kyverno) } } catch {
                throw Failure(description: "invalid jmespath \(e.jmesPath ?? ""): \(error)")
            }
            try walk(object, path: [], fields: fields[...], key: e.key ?? "", value: value, jmes: jmes, name: e.name ?? "custom", into: &found)
        }
        return found
    }

    static func walk(_ node: JSONValue, path: [String], fields: ArraySlice<String>, key: String, value: String, jmes: JMESPath?,
                     name: String, into found: inout [Found]) throws(Failure) {
        if node.isNull { return }
        if fields.first == "*" {
            switch node {
            case .array(let items):
                for (i, item) in items.enumerated() {
                    try walk(item, path: path + [String(i)], fields: fields.dropFirst(), key: key, value: value, jmes: jmes, name: name, into: &found)
                }
            case .object(let o):
                for k in o.keys.sorted() {
                    try walk(o[k]!, path: path + [k], fields: fields.dropFirst(), key: key, value: value, jmes: jmes, name: name, into: &found)
                }
            default:
                throw Failure(description: "imageExtractors: invalid type at /\(path.joined(separator: "/")): want a list or map for *")
            }
            return
        }
        guard let object = node.objectValue else {
            throw Failure(description: "imageExtractors: invalid image config at /\(path.joined(separator: "/")): want an object, got \(node.typeName)")
        }
        guard let field = fields.first else {
            let pointer = "/" + (path + [value]).map(escape).joined(separator: "/")
            if !key.isEmpty, object[key]?.stringValue == nil {
                throw Failure(description: "imageExtractors: invalid key: \(pointer) has no string \(key)")
            }
            // A missing or blank value is no image (Kyverno skips it).
            guard var image = object[value]?.stringValue, !image.trimmingCharacters(in: .whitespaces).isEmpty else { return }
            if let jmes {
                let result: JSONValue
                do { result = try jmes.search(.string(image)) } catch {
                    throw Failure(description: "failed to apply jmespath \(jmes.expression): \(error)")
                }
                guard let s = result.stringValue else {
                    throw Failure(description: "jmespath \(jmes.expression) must produce a string, but produced \(result.jsonString)")
                }
                image = s
            }
            do { _ = try ImageRef(parsing: image) } catch {
                throw Failure(description: "invalid image '\(image)' (\(error))")
            }
            found.append(Found(image: image, pointer: pointer, name: name))
            return
        }
        try walk(object[field] ?? .null, path: path + [field], fields: fields.dropFirst(), key: key, value: value, jmes: jmes, name: name, into: &found)
    }

    static func escape(_ segment: String) -> String {
        segment.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}
