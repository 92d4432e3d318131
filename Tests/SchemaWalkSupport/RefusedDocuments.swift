import Foundation
@testable import ImagePolicy

extension FieldDocuments {
    public struct Unusable: Error, CustomStringConvertible {
        public let description: String
    }

    /// The base document of `kind` with the row's field set (to its "when" value, else a sample of its type), and
    /// the path the refusal must name. A whole-kind row (`*`) is the base document itself, refused at `kind`.
    public static func refused(_ row: CompatibilityRow, in kind: CRDKind) throws -> (document: JSONValue, path: String) {
        let base = base(kind)
        if row.path == "*" { return (base, "kind") }
        guard let field = kind.fields.first(where: { $0.path == row.path }) else {
            throw Unusable(description: "\(row): no field \(row.path) in \(kind.kind) \(kind.version)")
        }
        var value = field.sampleValue
        if let text = row.refusedValue {
            guard let parsed = try YAMLDocuments.parse(text).first ?? nil else { throw Unusable(description: "\(row): bad value \(text)") }
            value = parsed
        }
        return (setting(row.path, to: value, in: base), concretePath(row.path))
    }
}
