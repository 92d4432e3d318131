import Foundation
import TestSupport
@testable import ImagePolicy

enum Paths {
    static let testdata = TestPaths.sharedTestdata
    static let policyController = testdata.appendingPathComponent("policy-controller")
    static let kyverno = testdata.appendingPathComponent("kyverno")
    static let fixtures = TestPaths.fixtures.appendingPathComponent("policy")

    static func files(_ dir: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.sorted().map { dir.appendingPathComponent($0) }
    }

    static func text(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }
}

func load(_ yaml: String) -> PolicyLoadResult { PolicyLoader.load(text: yaml, file: "test.yaml") }

/// Errors rendered as text, for message assertions.
func errorText(_ r: PolicyLoadResult) -> String { r.errors.map(\.description).joined(separator: "\n") }
