import CEL
import Foundation
import Testing

/// Error absorption, overflow, messages, custom functions, JSON input and reuse of a compiled program.
@Suite struct EvaluationTests {
    func eval(_ source: String, _ variables: [String: CELValue] = [:], _ options: CELOptions = CELOptions()) throws -> CELValue {
        try CELProgram(compiling: source, options).evaluate(variables)
    }

    func error(_ source: String, _ variables: [String: CELValue] = [:], _ options: CELOptions = CELOptions()) -> CELError? {
        do {
            let v = try eval(source, variables, options)
            Issue.record("\(source) evaluated to \(v), expected an error")
            return nil
        } catch let e as CELError {
            return e
        } catch {
            Issue.record("\(source) threw a non-CEL error \(error)")
            return nil
        }
    }

    func isTrue(_ source: String, _ variables: [String: CELValue] = [:]) throws -> Bool {
        if case .bool(true) = try eval(source, variables) { return true }
        return false
    }

    @Test func logicalOperatorsAbsorbErrorsFromEitherSide() throws {
        #expect(try isTrue("true || 1/0 == 0"))
        #expect(try isTrue("1/0 == 0 || true"))
        #expect(try isTrue("!(false && 1/0 == 0)"))
        #expect(try isTrue("!(1/0 == 0 && false)"))
        #expect(try isTrue("x || true"))  // an undeclared variable is an error value too
        #expect(error("1/0 == 0 || false")?.message == "divide by zero")
        #expect(error("true && 1/0 == 0")?.message == "divide by zero")
        #expect(try isTrue("1 || true"))  // a non-bool term is absorbed by true like an error
    }

    @Test func conditionalAndMacrosAbsorbAsTheSpecSays() throws {
        #expect(try isTrue("false ? 1/0 == 0 : true"))
        #expect(error("1/0 == 0 ? true : true")?.message == "divide by zero")
        #expect(try isTrue("[0, 1].exists(x, 1/x == 1)"))
        #expect(try isTrue("![0, 1].all(x, 1/x > 5)"))
        #expect(error("[0, 1].all(x, 1/x == 1)")?.message == "divide by zero")
        #expect(error("[0, 1].exists_one(x, 1/x == 1)")?.message == "divide by zero")
    }

    @Test func integerOverflowAndDivisionAreErrors() {
        for source in ["9223372036854775807 + 1", "-9223372036854775808 - 1", "9223372036854775807 * 2",
                       "-9223372036854775808 / -1", "-9223372036854775808 % -1", "-(-9223372036854775808)",
                       "18446744073709551615u + 1u", "0u - 1u", "4294967296u * 4294967296u", "math.abs(-9223372036854775808)"] {
            #expect(error(source)?.message == "integer overflow", "\(source)")
        }
        #expect(error("1 / 0")?.message == "divide by zero")
        #expect(error("1u % 0u")?.message == "modulus by zero")
        #expect(error("int(1e19)")?.message.contains("range") == true)
        #expect(error("uint(-1)")?.message.contains("range") == true)
        #expect(error("duration('200000000000s') + duration('200000000000s')") != nil)
        #expect(error("timestamp('9999-12-31T23:59:59Z') + duration('1s')") != nil)
    }

    @Test func errorMessagesSayWhatWentWrong() {
        #expect(error("{'a': 1}.foo")?.message == "no such key: foo")
        #expect(error("{'a': 1}['foo']")?.message == "no such key: foo")
        #expect(error("1 + 'a'")?.message == "no matching overload for '_+_' applied to (int, string)")
        #expect(error("[1, 2][5]")?.message == "index out of range: 5")
        #expect(error("y")?.message == "undeclared reference to 'y' (in container '')")
        #expect(error("nosuch(1)")?.message == "no such function: nosuch")
        #expect(error("1 +")?.kind == .syntax)
        #expect(error("'abc")?.kind == .syntax)
    }

    @Test func numbersCompareAcrossKinds() throws {
        #expect(try isTrue("1 == 1u && 1 == 1.0 && 1u == 1.0"))
        #expect(try isTrue("1 < 2u && 2u < 2.5 && -1 < 0u"))
        #expect(try isTrue("{1: 'a'}[1u] == 'a' && {1u: 'a'}[1.0] == 'a'"))
        #expect(try isTrue("[1, 2.0] == [1u, 2]"))
        #expect(try isTrue("double('NaN') != double('NaN')"))
    }

    @Test func doublesPrintLikeCelGo() throws {
        let cases: [(String, String)] = [
            ("123.456", "123.456"), ("100000.0", "100000"), ("1000000.0", "1e+06"), ("1234567.0", "1.234567e+06"),
            ("0.0001", "0.0001"), ("0.00001", "1e-05"), ("-2.5", "-2.5"), ("1e100", "1e+100"), ("0.1 + 0.2", "0.30000000000000004"),
        ]
        for (expr, text) in cases {
            #expect(try eval("string(\(expr))").string == text, "string(\(expr))")
        }
    }

    @Test func timestampsWithTimeZones() throws {
        let t = "timestamp('2009-02-13T23:31:30Z')"
        #expect(try eval("\(t).getHours('America/New_York')").int == 18)
        #expect(try eval("\(t).getHours('+05:30')").int == 5)
        #expect(try eval("\(t).getDayOfWeek()").int == 5)
        #expect(try eval("string(\(t) + duration('1.5s'))").string == "2009-02-13T23:31:31.5Z")
        #expect(try eval("string(duration('1h1.5s'))").string == "3601.5s")
    }

    @Test func customFunctionsByReceiverAndArity() throws {
        var options = CELOptions()
        options.functions = [
            CELFunction("shout", receiver: true, arity: 1) { call in
                guard case .string(let s) = call.args[0] else { return nil }
                return .string(s.uppercased() + "!")
            },
            CELFunction("pick", arity: 2) { call in call.args[1] },
            CELFunction("pick", arity: 3) { call in call.args[2] },
        ]
        #expect(try eval("'hi'.shout()", [:], options).string == "HI!")
        #expect(try eval("pick(1, 2) + pick(1, 2, 3)", [:], options).int == 5)
        #expect(error("(1).shout()", [:], options)?.message == "no matching overload for 'shout' applied to (int)")
    }

    @Test("functions added per evaluation take precedence and leave the compiled program as it was")
    func functionsAddedPerEvaluation() throws {
        var options = CELOptions()
        options.functions = [CELFunction("answer", arity: 0) { _ in .int(1) }]
        let program = try CELProgram(compiling: "answer() + 1", options)
        #expect(try program.evaluate([:], adding: [CELFunction("answer", arity: 0) { _ in .int(41) }]).int == 42)
        #expect(try program.evaluate([:]).int == 2)
        #expect(try program.evaluate([:], adding: []).int == 2)
    }

    struct ImageRef: CELOpaqueValue {
        let text: String
        var celType: CELType { CELType("test.ImageRef") }
        var description: String { text }
        func isEqual(to other: any CELOpaqueValue) -> Bool { (other as? ImageRef)?.text == text }
    }

    @Test func opaqueValuesOfTheEmbeddersTypes() throws {
        var options = CELOptions()
        options.types = [CELType("test.ImageRef")]
        options.functions = [
            CELFunction("image", arity: 1) { call in
                guard case .string(let s) = call.args[0] else { return nil }
                return .opaque(ImageRef(text: s))
            },
            CELFunction("registry", receiver: true, arity: 1) { call in
                guard case .opaque(let o) = call.args[0], let ref = o as? ImageRef else { return nil }
                return .string(String(ref.text.prefix { $0 != "/" }))
            },
        ]
        #expect(try eval("image('ghcr.io/a/b').registry()", [:], options).string == "ghcr.io")
        #expect(try eval("type(image('x')) == test.ImageRef && image('x') == image('x') && image('x') != image('y')", [:], options).bool == true)
        #expect(try eval("string(image('ghcr.io/a'))", [:], options).string == "ghcr.io/a")
        #expect(error("test.ImageRef", [:], CELOptions())?.message.contains("undeclared reference") == true)
    }

    @Test func kubernetesObjectFromJSON() throws {
        let pod = """
            {"metadata": {"name": "web", "labels": {"app": "shop"}},
             "spec": {"replicas": 3, "ratio": 0.5, "containers": [{"image": "registry.example/web:1"}, {"image": "docker.io/nginx"}]}}
            """
        let object = try CELValue(jsonData: Data(pod.utf8))
        let vars = ["object": object]
        #expect(try eval("object.spec.containers.map(c, c.image).filter(i, !i.startsWith('registry.example/'))", vars).jsonText()
                == #"["docker.io/nginx"]"#)
        #expect(try isTrue("object.spec.replicas == 3 && type(object.spec.replicas) == int && object.spec.ratio == 0.5", vars))
        #expect(try isTrue("has(object.metadata.labels) && !has(object.metadata.annotations)", vars))
        #expect(try isTrue("object.metadata.?annotations.orValue({}).size() == 0", vars))
    }

    @Test func foundationValuesBuiltInSwift() throws {
        let object: [String: Any] = ["n": 3, "big": UInt64.max, "f": 1.5, "ok": true, "list": [1, "a", NSNull()]]
        let v = try CELValue(json: object)
        #expect(try eval("o.n == 3 && type(o.n) == int && type(o.big) == uint && o.f == 1.5 && o.ok && o.list[2] == null", ["o": v]).bool == true)
        let parsed = try CELValue(jsonData: Data(#"{"n": 3, "f": 1.0, "ok": false}"#.utf8))
        #expect(try eval("type(o.n) == int && type(o.f) == double && type(o.ok) == bool", ["o": parsed]).bool == true)
    }

    @Test func mapKeysAreNotUnicodeNormalized() throws {
        #expect(try eval("'e\\u0301' in {'\\u00e9': 1}").bool == false)
        #expect(try eval("{'\\u00e9': 1, 'e\\u0301': 2}.size()").int == 2)
    }

    @Test func oneProgramEvaluatedConcurrently() async throws {
        let program = try CELProgram(compiling: "[1, 2, 3].map(x, x * n).exists(y, y == n * 3)")
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for n in 1...64 {
                group.addTask { try program.evaluate(["n": .int(Int64(n))]).bool == true }
            }
            for try await ok in group { #expect(ok) }
        }
    }
}

extension CELValue {
    var int: Int64? { if case .int(let i) = self { return i } else { return nil } }
    var string: String? { if case .string(let s) = self { return s } else { return nil } }
    var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
}
