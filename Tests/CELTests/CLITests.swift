import Foundation
import Testing
import TestSupport

/// `sealgate cel eval` driven through the built binary.
@Suite struct CLITests {
    func sealgate(_ arguments: [String]) throws -> ProcessOutput {
        let binary = TestPaths.sealgateBinary.path
        try #require(FileManager.default.isExecutableFile(atPath: binary), "sealgate binary not built at \(binary)")
        return try Subprocess.run(binary, ["cel", "eval"] + arguments)
    }

    @Test func evaluatesWithVariables() throws {
        let out = try sealgate(["a + 1", "--var", "a=41"])
        #expect(out.status == 0)
        #expect(out.stdout == "42\n")
        let list = try sealgate(["obj.items.filter(i, i > 1)", "--var", #"obj={"items": [1, 2, 3]}"#])
        #expect(list.stdout == "[2,3]\n")
    }

    @Test func printsTimestampsDurationsAndBytesAsJSONStrings() throws {
        let out = try sealgate([#"[timestamp("2020-01-01T00:00:00.5Z"), duration("1500ms"), b"hi"]"#])
        #expect(out.stdout == #"["2020-01-01T00:00:00.5Z","1.5s","aGk="]"# + "\n")
    }

    @Test func readsVariablesFromYAMLAndJSONFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cel-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = dir.appendingPathComponent("vars.yaml")
        try "object:\n  metadata:\n    name: web\n  spec:\n    replicas: 3\n".write(to: yaml, atomically: true, encoding: .utf8)
        let out = try sealgate(["object.metadata.name + '/' + string(object.spec.replicas + 1)", "--vars", yaml.path])
        #expect(out.stdout == "\"web/4\"\n")
        let json = dir.appendingPathComponent("vars.json")
        try #"{"n": 18446744073709551615}"#.write(to: json, atomically: true, encoding: .utf8)
        #expect(try sealgate(["type(n) == uint", "--vars", json.path]).stdout == "true\n")
    }

    @Test func errorsExitOneWithTheMessage() throws {
        let syntax = try sealgate(["1 +"])
        #expect(syntax.status == 1)
        #expect(syntax.stdout.isEmpty)
        #expect(syntax.stderr.contains("syntax error: unexpected end of input"))
        let runtime = try sealgate(["{'a': 1}.b"])
        #expect(runtime.status == 1)
        #expect(runtime.stderr.contains("no such key: b"))
        let badVar = try sealgate(["x", "--var", "x=not json"])
        #expect(badVar.status == 1)
        #expect(badVar.stderr.contains("--var x: the value is not JSON"))
        let cost = try sealgate(["lists.range(1000).all(x, lists.range(1000).all(y, true))", "--cost-limit", "5000"])
        #expect(cost.status == 1)
        #expect(cost.stderr.contains("cost limit 5000 exceeded"))
    }
}
