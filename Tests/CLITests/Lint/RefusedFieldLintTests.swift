import Foundation
import SealgateCore
import SchemaWalkSupport
import Testing
import TestSupport

/// The refused rows of docs/COMPATIBILITY.md through the built binary: `sealgate lint` fails on each, naming the field
/// (the same documents ImagePolicyTests/SchemaWalkTests.swift checks at load).
@Suite(.serialized) struct RefusedFieldLintTests {
    let kinds: [CRDKind]
    let rows: [CompatibilityRow]

    init() throws {
        let inputs = try SchemaWalkInputs()
        (kinds, rows) = (inputs.kinds, inputs.rows)
    }

    @Test("sealgate lint exits 1 on every refused field, naming it")
    func refusedFieldsFailLint() throws {
        let dir = try makeTemporaryDirectory("schema-walk")
        defer { try? FileManager.default.removeItem(at: dir) }
        for (i, row) in rows.enumerated() where row.status == .refused {
            guard let kind = kinds.first(where: { row.applies(to: $0) }) else { continue }
            let (doc, at) = try FieldDocuments.refused(row, in: kind)
            let file = dir.appendingPathComponent("row-\(i).json")
            try Data(doc.jsonString.utf8).write(to: file)
            let out = try SealgateCLI.run(["lint", file.path])
            let text = out.stdout + out.stderr
            #expect(out.status == 1, "\(row): lint exited \(out.status)\n\(text)")
            #expect(text.contains(at) && text.contains(row.coveredBy), "\(row): lint output does not name \(at) with \"\(row.coveredBy)\"\n\(text)")
        }
    }
}
