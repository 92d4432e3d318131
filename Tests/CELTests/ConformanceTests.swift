import CEL
import Foundation
import Testing
import TestSupport

/// Runs every case of the cel-spec "simple" conformance files (../shared/testdata/cel-spec/json) and
/// checks the failures against Tests/Fixtures/cel/known-failures.txt, in both directions.
@Suite struct ConformanceTests {
    static let dataDirectory = TestPaths.sharedTestdata.appendingPathComponent("cel-spec/json")
    static let knownFailuresFile = TestPaths.fixtures.appendingPathComponent("cel/known-failures.txt")

    /// Files that are about protobuf message types (and unknowns.json, which holds no cases).
    static let notApplicableFiles: [String: String] = [
        "proto2": "protobuf messages", "proto3": "protobuf messages", "proto2_ext": "protobuf extensions",
        "enums": "protobuf enums", "wrappers": "protobuf wrapper types", "unknowns": "unknown values",
    ]
    /// Files that must pass completely.
    static let strictFiles: Set<String> = ["basic", "comparisons", "logic", "macros", "lists", "string", "integer_math"]

    struct Outcome {
        var passed = 0, failed = 0, notApplicable = 0
        var reasons: [String: Int] = [:]
    }

    static let fileNames: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: dataDirectory.path)) ?? [])
        .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()

    @Test func conformanceDataIsPresent() {
        #expect(FileManager.default.fileExists(atPath: Self.dataDirectory.path),
                "cel-spec conformance data missing: expected the JSON files in \(Self.dataDirectory.path)")
        #expect(Self.fileNames.count >= 25, "expected the cel-spec simple test files in \(Self.dataDirectory.path)")
    }

    /// One file: its failures must be exactly those listed in known-failures.txt.
    @Test(arguments: fileNames) func conformanceFile(_ name: String) throws {
        let known = try Self.knownFailures()
        let (outcome, _) = try Self.run(file: name, known: known, recordIssues: true)
        let why = outcome.reasons.isEmpty ? "" : " (" + outcome.reasons.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ") + ")"
        print("cel-spec \(name): \(outcome.passed) passed, \(outcome.failed) failed, \(outcome.notApplicable) not applicable\(why)")
        if Self.strictFiles.contains(name) {
            #expect(outcome.failed == 0, "\(name) must pass every applicable case")
        }
    }

    /// All files together: at least 97% of the applicable cases pass, and every listed failure is a real case.
    @Test func conformanceOverall() throws {
        try #require(!Self.fileNames.isEmpty, "cel-spec conformance data missing in \(Self.dataDirectory.path)")
        let known = try Self.knownFailures()
        var total = Outcome()
        var seen: Set<String> = []
        for name in Self.fileNames {
            let (outcome, ids) = try Self.run(file: name, known: known, recordIssues: false)
            total.passed += outcome.passed
            total.failed += outcome.failed
            total.notApplicable += outcome.notApplicable
            seen.formUnion(ids)
        }
        for id in known.subtracting(seen).sorted() {
            Issue.record("known-failures.txt lists \(id), which is not an applicable conformance case")
        }
        let applicable = total.passed + total.failed
        let percent = applicable == 0 ? 0 : Double(total.passed) * 100 / Double(applicable)
        print(String(format: "cel-spec total: %d of %d applicable cases pass (%.2f%%), %d not applicable",
                     total.passed, applicable, percent, total.notApplicable))
        #expect(percent >= 97, "conformance below 97% of applicable cases")
    }

    /// Runs one file's cases; returns the counts and the ids of its applicable cases.
    static func run(file name: String, known: Set<String>, recordIssues: Bool) throws -> (Outcome, Set<String>) {
        let data = try Data(contentsOf: dataDirectory.appendingPathComponent(name + ".json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var outcome = Outcome()
        var seen: Set<String> = []
        for section in (root["section"] as? [[String: Any]]) ?? [] {
            let sectionName = section["name"] as? String ?? "?"
            for test in (section["test"] as? [[String: Any]]) ?? [] {
                let id = "\(name)/\(sectionName)/\(test["name"] as? String ?? "?")"
                if let reason = notApplicableFiles[name] ?? ConformanceCase.notApplicable(test) {
                    outcome.notApplicable += 1
                    outcome.reasons[reason, default: 0] += 1
                    continue
                }
                seen.insert(id)
                if let failure = ConformanceCase.run(test) {
                    outcome.failed += 1
                    if recordIssues, !known.contains(id) { Issue.record("\(id) fails: \(failure)") }
                } else {
                    outcome.passed += 1
                    if recordIssues, known.contains(id) { Issue.record("\(id) passes but is listed in known-failures.txt: remove it") }
                }
            }
        }
        return (outcome, seen)
    }

    static func knownFailures() throws -> Set<String> {
        guard let text = try? String(contentsOf: knownFailuresFile, encoding: .utf8) else {
            Issue.record("missing \(knownFailuresFile.path)")
            return []
        }
        return Set(text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") })
    }
}

/// One conformance case: whether it applies, and running it.
enum ConformanceCase {
    /// Protobuf-typed cases: message or enum values, message construction, proto type names, type-check-only cases.
    /// nil when the case applies, else why not.
    static func notApplicable(_ test: [String: Any]) -> String? {
        let checker = "type-checker only", proto = "protobuf message types"
        if test["check_only"] as? Bool == true { return checker }
        if let typed = test["typed_result"] as? [String: Any], typed["result"] == nil { return checker }
        let text = String(decoding: (try? JSONSerialization.data(withJSONObject: test)) ?? Data(), as: UTF8.self)
        if text.contains("object_value") || text.contains("enum_value") || text.contains("message_type\":\"cel.") { return proto }
        let expr = test["expr"] as? String ?? ""
        if expr.contains("TestAllTypes") || expr.contains("Enum") || expr.contains("proto2.") || expr.contains("proto3.") { return proto }
        for wrapper in ["Int32Value", "Int64Value", "UInt32Value", "UInt64Value", "FloatValue", "DoubleValue", "BoolValue",
                        "StringValue", "BytesValue", "google.protobuf.Value", "ListValue", "Struct", "google.protobuf.Any", "NullValue"]
            where expr.contains(wrapper) {
            return proto
        }
        // Message construction `Name{...}` (a map literal is never directly after an identifier, except `in {`),
        // looked for outside string literals.
        let code = expr.replacingOccurrences(of: #"'[^']*'|"[^"]*""#, with: "''", options: .regularExpression)
        if code.range(of: #"(?<![.\w])(?!in\b)[A-Za-z_][\w.]*\s*\{"#, options: .regularExpression) != nil { return proto }
        return nil
    }

    /// nil when the case passes, else what went wrong.
    static func run(_ test: [String: Any]) -> String? {
        let expr = test["expr"] as? String ?? ""
        var options = CELOptions()
        options.container = test["container"] as? String ?? ""
        var variables: [String: CELValue] = [:]
        do {
            for (name, binding) in (test["bindings"] as? [String: Any]) ?? [:] {
                guard let value = (binding as? [String: Any])?["value"] else { return "binding \(name) is not a value" }
                variables[name] = try ConformanceValues.value(value)
            }
        } catch {
            return "unsupported binding: \(error)"
        }
        let result: Result<CELValue, Error>
        do {
            let program = try CELProgram(compiling: expr, options)
            result = .success(try program.evaluate(variables))
        } catch {
            result = .failure(error)
        }
        if test["eval_error"] != nil {
            if case .success(let v) = result { return "expected an error, got \(v)" }
            return nil
        }
        let expectedJSON = test["value"] ?? (test["typed_result"] as? [String: Any])?["result"]
        // simple.proto: a case that names no result expects `true`.
        let expectedValue: Any = expectedJSON ?? ["bool_value": true]
        let expected: CELValue
        do { expected = try ConformanceValues.value(expectedValue) } catch { return "unsupported expected value: \(error)" }
        switch result {
        case .failure(let error): return "expected \(expected), got error: \(error)"
        case .success(let v): return ConformanceValues.same(v, expected) ? nil : "expected \(expected), got \(v)"
        }
    }
}
