import CEL
import Foundation
import Testing
import TestSupport

/// Seeded random expressions and patterns: every outcome is a value or a CELError, never a crash or a hang.
@Suite struct FuzzTests {
    /// CEL_FUZZ_ITERATIONS runs longer locally; the default keeps the suite quick.
    static let iterations = Int(ProcessInfo.processInfo.environment["CEL_FUZZ_ITERATIONS"] ?? "") ?? 20_000
    static let seed = UInt64(ProcessInfo.processInfo.environment["CEL_FUZZ_SEED"] ?? "") ?? 0xCE1

    static let fragments = [
        "1", "0", "-", "9223372036854775807", "18446744073709551615u", "1.5", "'a'", "\"\\u00e9\"", "b'\\xff'", "r'\\d'", "'''x'''",
        "x", "m", "l", "s", ".", ".?", "[", "]", "[?", "{", "}", "(", ")", ",", ":", "?", "!", "+", "*", "/", "%", "==", "<", ">=",
        "&&", "||", " in ", "size", "has", "all", "exists", "exists_one", "map", "filter", "int", "uint", "double", "string",
        "bytes", "timestamp", "duration", "type", "dyn", "matches", "contains", "split", "format", "cel.bind", "cel.block",
        "cel.index", "optional.of", "orValue", "math.greatest", "lists.range", "sortBy", "transformMap", "`k`", " ", "null",
        "true", "'%d %s'", "'(a*)*'", "'[[:'", "'\\\\p{'", "'2020-01-01T00:00:00Z'", "'1h'", "'America/New_York'", "getHours",
    ]

    @Test func randomExpressionsNeverCrash() throws {
        var rng = SeededRandom(state: Self.seed)
        var options = CELOptions()
        options.costLimit = 20_000
        let vars: [String: CELValue] = [
            "x": .int(3), "s": .string("a-b_c"), "l": .list([.int(1), .string("a"), .double(2.5)]),
            "m": .map(try CELMap([(.string("k"), .list([.int(1)])), (.int(1), .bool(true))])),
        ]
        var values = 0
        for _ in 0..<Self.iterations {
            let count = Int.random(in: 1...14, using: &rng)
            let source = (0..<count).map { _ in Self.fragments[Int.random(in: 0..<Self.fragments.count, using: &rng)] }.joined()
            do {
                _ = try CELProgram(compiling: source, options).evaluate(vars)
                values += 1
            } catch is CELError {
            } catch {
                Issue.record("\(source): non-CEL error \(error)")
            }
        }
        #expect(values > 100, "the generator should produce some valid expressions")
    }

    @Test func randomPatternsNeverCrash() throws {
        var rng = SeededRandom(state: Self.seed ^ 0x5E2)
        let pieces = ["a", "b", ".", "*", "+", "?", "|", "(", ")", "[", "]", "^", "$", "\\", "d", "w", "{", "}", "2", ",", "-",
                      ":", "?:", "?i", "P<n>", "\\b", "[:alpha:]", "\\p{L}", "\\x{41}", "é", "\n"]
        let program = try CELProgram(compiling: "t.matches(p)")
        var answered = 0
        for _ in 0..<Self.iterations {
            let count = Int.random(in: 1...10, using: &rng)
            let pattern = (0..<count).map { _ in pieces[Int.random(in: 0..<pieces.count, using: &rng)] }.joined()
            do {
                _ = try program.evaluate(["t": .string("ab\nAB12 é_-:"), "p": .string(pattern)])
                answered += 1
            } catch is CELError {
            } catch {
                Issue.record("\(pattern): non-CEL error \(error)")
            }
        }
        #expect(answered > 1000)
    }
}
