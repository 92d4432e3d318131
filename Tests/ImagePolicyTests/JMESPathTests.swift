import Foundation
import Testing
@testable import ImagePolicy

struct ComplianceGroup: Decodable {
    let suite: String
    let given: JSONValue
    let cases: [ComplianceCase]
}

struct ComplianceCase: Decodable {
    let expression: String
    let result: JSONValue?
    let error: String?

    enum CodingKeys: String, CodingKey { case expression, result, error }
    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        expression = try c.decode(String.self, forKey: .expression)
        error = try c.decodeIfPresent(String.self, forKey: .error)
        // `"result": null` is a real expected value, distinct from an error case.
        result = error == nil ? (try c.decodeIfPresent(JSONValue.self, forKey: .result) ?? .null) : nil
    }
}

@Suite struct JMESPathCompliance {
    static let groups: [ComplianceGroup] = {
        let url = Paths.fixtures.appendingPathComponent("jmespath/compliance.json")
        let data = try! Data(contentsOf: url)
        return try! JSONDecoder().decode([ComplianceGroup].self, from: data)
    }()

    @Test func fixtureCoversEveryFunction() {
        let expressions = Self.groups.flatMap { $0.cases.map(\.expression) }.joined(separator: " ")
        for name in JMESFunctionTable.standard.names {
            #expect(expressions.contains("\(name)("), "no compliance case for \(name)()")
        }
        for op in ["||", "&&", "!", "==", "!=", "<", "<=", ">", ">=", "[?", "[]", "[*]", ".*", "|", "&", "`", "'", "@", "[::"] {
            #expect(expressions.contains(op), "no compliance case for \(op)")
        }
    }

    @Test(arguments: ["basic", "boolean", "current", "escape", "filters", "functions", "identifiers", "indices",
                      "literal", "multiselect", "pipe", "slice", "syntax", "unicode", "wildcard"])
    func suite(_ name: String) {
        var count = 0
        for group in Self.groups where group.suite == name {
            for c in group.cases {
                count += 1
                let outcome: Result<JSONValue, JMESPathError>
                do {
                    let compiled = try JMESPath.compile(c.expression)
                    outcome = .success(try compiled.search(group.given))
                } catch {
                    outcome = .failure(error)
                }
                switch (outcome, c.error) {
                case (.success(let got), nil):
                    #expect(got == c.result!, "\(name): \(c.expression) -> \(got.jsonString), want \(c.result!.jsonString)")
                case (.failure(let e), nil):
                    Issue.record("\(name): \(c.expression) failed with \(e), want \(c.result!.jsonString)")
                case (.success(let got), let want?):
                    Issue.record("\(name): \(c.expression) -> \(got.jsonString), want error \(want)")
                case (.failure(let e), let want?):
                    // Syntax-class errors must be reported at compile time (policy load time).
                    let acceptable: Set<String> = want == "syntax" ? ["syntax"] : [want, "syntax"]
                    #expect(acceptable.contains(e.kind.rawValue), "\(name): \(c.expression) raised \(e.kind.rawValue), want \(want)")
                }
            }
        }
        #expect(count > 0)
    }

    @Test func compileTimeErrorsForUnknownFunctionAndArity() {
        #expect(throws: JMESPathError.self) { try JMESPath.compile("nope(@)") }
        #expect(throws: JMESPathError.self) { try JMESPath.compile("length(a, b)") }
        #expect(throws: JMESPathError.self) { try JMESPath.compile("foo[") }
        #expect(throws: JMESPathError.self) { try JMESPath.compile("a.`{bad`") }
        do { _ = try JMESPath.compile("abs()"); Issue.record("accepted") } catch { #expect(error.kind == .invalidArity) }
        do { _ = try JMESPath.compile("unknown_fn(x)"); Issue.record("accepted") } catch { #expect(error.kind == .unknownFunction) }
    }

    @Test func kyvernoFunctions() throws {
        let data: JSONValue = ["uri": "pkg:github/aquasecurity/trivy@0.34.0", "n": 42, "s": "  hi  "]
        func run(_ e: String) throws -> JSONValue { try JMESPath.compile(e, functions: .kyverno).search(data) }
        #expect(try run("regex_match('^pkg:github/aquasecurity/trivy@0.34.0', uri)") == true)
        #expect(try run("regex_match('^pkg:npm', uri)") == false)
        #expect(try run("trim_prefix(uri, 'pkg:')") == "github/aquasecurity/trivy@0.34.0")
        #expect(try run("to_upper('abc')") == "ABC")
        #expect(try run("split('a,b', ',')") == ["a", "b"])
        #expect(try run("truncate('abcdef', `3`)") == "abc")
        #expect(try run("add(n, `1`)") == 43)
        #expect(try run("equal_fold('ABC', 'abc')") == true)
        #expect(try run("time_since('', '2022-01-01T00:00:00Z', '2022-01-01T01:30:00Z')") == "1h30m0s")
        // Kyverno functions are not in the standard table: unknown at compile time.
        #expect(throws: JMESPathError.self) { try JMESPath.compile("regex_match('a', 'b')") }
    }
}
