import Foundation
import Testing
import TestSupport
@testable import ImagePolicy

/// Issue #20 item 4, "no silently ignored field": every field path of the upstream CRDs (policy-controller
/// ClusterImagePolicy and TrustRoot, Kyverno ClusterPolicy/Policy, ImageValidatingPolicy,
/// NamespacedImageValidatingPolicy, PolicyException) has a row in docs/COMPATIBILITY.md, and each row holds:
/// implemented fields name a test that exists, refused fields are errors naming the field at load and in `sealgate lint`.
@Suite(.serialized) struct SchemaWalkTests {
    let kinds: [CRDKind]
    let rows: [CompatibilityRow]

    init() throws {
        let missing = CRDSchemas.missingFiles
        try #require(missing.isEmpty, "upstream CRDs missing (../shared/testdata absent?): \(missing.joined(separator: ", "))")
        kinds = try CRDSchemas.load()
        let text = try String(contentsOf: CompatibilityTable.file, encoding: .utf8)
        let table = CompatibilityTable.parse(text)
        #expect(table.problems.isEmpty, "\(table.problems.joined(separator: "\n"))")
        rows = table.rows
    }

    @Test("every kind and version of the upstream CRDs is walked")
    func crdKindsAreRead() {
        let names = Set(kinds.map { "\($0.kind) \($0.version)" })
        for expected in ["ClusterImagePolicy v1alpha1", "ClusterImagePolicy v1beta1", "TrustRoot v1alpha1", "ClusterPolicy v1",
                         "ClusterPolicy v2beta1", "Policy v1", "Policy v2beta1", "ImageValidatingPolicy v1",
                         "NamespacedImageValidatingPolicy v1", "PolicyException v1"] {
            #expect(names.contains(expected), "\(expected) not found in the CRDs")
        }
        #expect(kinds.allSatisfy { $0.fields.count > 5 })
    }

    @Test("every CRD field path is covered by a row (exactly, through an ancestor, or through all its sub-fields)")
    func everyFieldHasARow() {
        var uncovered: [String] = []
        for kind in kinds {
            let paths = kind.fields.map(\.path)
            for path in paths where CompatibilityTable.row(for: path, of: kind, in: rows) == nil {
                // A field with sub-fields is covered when they all are (each of them is checked here too).
                if !paths.contains(where: { CompatibilityRow.isBelow($0, path) }) { uncovered.append("\(kind.kind) \(kind.version): \(path)") }
            }
        }
        #expect(uncovered.isEmpty, "\(uncovered.count) field(s) without a row in docs/COMPATIBILITY.md:\n\(uncovered.joined(separator: "\n"))")
    }

    @Test("every row names a field that exists in each kind and version it lists, once")
    func everyRowNamesAnUpstreamField() {
        #expect(rows.count > 50)
        var seen: Set<String> = []
        for row in rows {
            let matching = kinds.filter { row.applies(to: $0) }
            #expect(Set(matching.map(\.kind)) == Set(row.kinds), "\(row): unknown kind (or version) in \(row.kinds) \(row.versions)")
            for version in row.versions {
                #expect(matching.contains { $0.version == version }, "\(row): no served version \(version)")
            }
            for kind in matching {
                #expect(row.path == "*" || kind.paths.contains(row.path), "\(row): no field \(row.path) in \(kind.kind) \(kind.version)")
                #expect(seen.insert("\(kind.kind) \(kind.version) \(row.path)").inserted, "\(row): a second row for the same field")
            }
        }
    }

    @Test("implemented and warning rows name a test that exists under Tests/")
    func testReferencesExist() throws {
        let sources = try Self.testSources()
        for row in rows where row.status == .implemented || row.status == .warnsFailsClosed {
            guard let ref = row.testReference else {
                Issue.record("\(row): covered-by must be `File.swift: test name`, got \"\(row.coveredByText)\"")
                continue
            }
            guard let text = sources[ref.file] else {
                Issue.record("\(row): no test file \(ref.file) under Tests/")
                continue
            }
            let named = text.contains("func \(ref.name)(") || text.contains("@Test(\"\(ref.name)\"")
            #expect(named, "\(row): \(ref.file) has no test \(ref.name)")
        }
    }

    @Test("no-effect rows say why")
    func noEffectRowsGiveAReason() {
        for row in rows where row.status == .noEffect {
            #expect(row.coveredByText.count >= 20, "\(row): a no-effect row needs the reason it cannot change a decision")
        }
    }

    @Test("the base documents load without errors")
    func baseDocumentsLoad() {
        for kind in kinds where Self.loadable.contains(kind.kind) {
            let r = PolicyLoader.load(object: FieldDocuments.base(kind), source: "\(kind.kind) \(kind.version)")
            #expect(!r.hasErrors, "\(kind.kind) \(kind.version): \(r.errors)")
        }
    }

    @Test("fields that are not refused are never 'unknown field'")
    func acceptedFieldsAreKnown() {
        for kind in kinds where Self.loadable.contains(kind.kind) {
            for field in kind.fields {
                guard let row = CompatibilityTable.row(for: field.path, of: kind, in: rows), row.status != .refused else { continue }
                let doc = FieldDocuments.setting(field.path, to: field.sampleValue, in: FieldDocuments.base(kind))
                let at = FieldDocuments.concretePath(field.path)
                let r = PolicyLoader.load(object: doc, source: "walk")
                let unknown = r.errors.filter { $0.path == at && $0.message.hasPrefix("unknown field") }
                #expect(unknown.isEmpty, "\(kind.kind) \(kind.version) \(field.path) is \(row.status.rawValue) in the table (\(row)) but the loader says: \(unknown)")
            }
        }
    }

    @Test("refused fields are errors at load that name the field and say why")
    func refusedFieldsAreRefusedAtLoad() throws {
        for row in rows where row.status == .refused {
            for kind in kinds where row.applies(to: kind) {
                let (doc, at) = try Self.refusedDocument(row, kind)
                let r = PolicyLoader.load(object: doc, source: "walk")
                let hit = r.errors.contains { Self.names($0.path, at) && $0.message.contains(row.coveredBy) }
                #expect(hit, "\(row) in \(kind.kind) \(kind.version): no error at \(at) containing \"\(row.coveredBy)\"; got \(r.errors)")
            }
        }
    }

    @Test("sealgate lint exits 1 on every refused field, naming it")
    func refusedFieldsFailLint() throws {
        try #require(FileManager.default.isExecutableFile(atPath: TestPaths.sealgateBinary.path),
                     "sealgate binary not built at \(TestPaths.sealgateBinary.path)")
        let dir = try makeTemporaryDirectory("schema-walk")
        defer { try? FileManager.default.removeItem(at: dir) }
        for (i, row) in rows.enumerated() where row.status == .refused {
            guard let kind = kinds.first(where: { row.applies(to: $0) }) else { continue }
            let (doc, at) = try Self.refusedDocument(row, kind)
            let file = dir.appendingPathComponent("row-\(i).json")
            try Data(doc.jsonString.utf8).write(to: file)
            let out = try Subprocess.run(TestPaths.sealgateBinary.path, ["lint", file.path])
            let text = out.stdout + out.stderr
            #expect(out.status == 1, "\(row): lint exited \(out.status)\n\(text)")
            #expect(text.contains(at) && text.contains(row.coveredBy), "\(row): lint output does not name \(at) with \"\(row.coveredBy)\"\n\(text)")
        }
    }

    // MARK: - Helpers

    /// Kinds the loader reads (the others are refused as a whole).
    static let loadable: Set<String> = ["ClusterImagePolicy", "TrustRoot", "ClusterPolicy", "Policy", "ImageValidatingPolicy", "NamespacedImageValidatingPolicy"]

    /// The base document of `kind` with the row's field set (to its "when" value, else a sample of its type), and
    /// the path the refusal must name. A whole-kind row (`*`) is the base document itself, refused at `kind`.
    static func refusedDocument(_ row: CompatibilityRow, _ kind: CRDKind) throws -> (JSONValue, String) {
        let base = FieldDocuments.base(kind)
        if row.path == "*" { return (base, "kind") }
        let field = try #require(kind.fields.first { $0.path == row.path }, "\(row): no field \(row.path) in \(kind.kind) \(kind.version)")
        var value = field.sampleValue
        if let text = row.refusedValue { value = try #require(try YAMLDocuments.parse(text).first ?? nil, "\(row): bad value \(text)") }
        return (FieldDocuments.setting(row.path, to: value, in: base), FieldDocuments.concretePath(row.path))
    }

    /// An issue path names the field when it is the field or lies below it.
    static func names(_ issuePath: String, _ field: String) -> Bool {
        issuePath == field || issuePath.hasPrefix(field + ".") || issuePath.hasPrefix(field + "[")
    }

    /// Every Swift file under Tests/, by file name.
    static func testSources() throws -> [String: String] {
        let root = TestPaths.packageRoot.appendingPathComponent("Tests")
        var out: [String: String] = [:]
        for rel in FileManager.default.enumerator(atPath: root.path)?.compactMap({ $0 as? String }) ?? [] where rel.hasSuffix(".swift") {
            out[(rel as NSString).lastPathComponent] = try String(contentsOf: root.appendingPathComponent(rel), encoding: .utf8)
        }
        return out
    }
}
