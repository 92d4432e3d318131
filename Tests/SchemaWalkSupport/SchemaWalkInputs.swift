import Foundation

/// What the schema walk compares: every kind and version of the upstream CRDs, and the rows of docs/COMPATIBILITY.md
/// (with the table's own problems: bad status, missing cells).
public struct SchemaWalkInputs {
    public struct Missing: Error, CustomStringConvertible {
        public let description: String
    }

    public let kinds: [CRDKind]
    public let rows: [CompatibilityRow]
    public let problems: [String]

    public init() throws {
        let missing = CRDSchemas.missingFiles
        guard missing.isEmpty else {
            throw Missing(description: "upstream CRDs missing (../shared/testdata absent?): \(missing.joined(separator: ", "))")
        }
        kinds = try CRDSchemas.load()
        (rows, problems) = CompatibilityTable.parse(try String(contentsOf: CompatibilityTable.file, encoding: .utf8))
    }
}
