import CEL
import Foundation
import Testing

/// Hostile expressions stop with a limit error, quickly, instead of running away or crashing.
@Suite struct LimitTests {
    func limitError(_ source: String, _ options: CELOptions = CELOptions()) -> CELError? {
        do {
            let v = try CELProgram(compiling: source, options).evaluate()
            Issue.record("evaluated to \(v), expected a limit error")
            return nil
        } catch let e as CELError {
            #expect(e.kind == .limit, "\(e.message)")
            return e
        } catch {
            Issue.record("non-CEL error \(error)")
            return nil
        }
    }

    /// CPU time of the calling thread, so a busy machine does not make the bound flaky.
    func threadCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    @Test func nestedComprehensionsStopAtTheCostLimit() {
        let start = threadCPUSeconds()
        let e = limitError("lists.range(1000).all(x, lists.range(1000).all(y, lists.range(1000).all(z, x + y + z >= 0)))")
        #expect(e?.message == "cost limit 1000000 exceeded")
        #expect(threadCPUSeconds() - start < 1.0, "a debug build stops the runaway in well under a second of CPU")
    }

    @Test func costErrorsAreNotAbsorbedByLogicalOperators() {
        var options = CELOptions()
        options.costLimit = 10_000
        let e = limitError("lists.range(5000).map(x, lists.range(5000).size()).size() > 0 || true", options)
        #expect(e?.message == "cost limit 10000 exceeded")
        let m = limitError("[1].all(x, lists.range(50000).exists(y, y < 0)) || true", options)
        #expect(m?.message == "cost limit 10000 exceeded")
    }

    @Test func workOnBigValuesIsCharged() {
        // Scanning a large string or comparing large lists costs in proportion to their size.
        let start = threadCPUSeconds()
        let big = "cel.bind(s, 'abcdefghij'.replace('', 'abcdefghijklmnopqrstuvwxyz').replace('a', 'abcdefghijklmnopqrstuvwxyz')"
        #expect(limitError(big + ", lists.range(100000).all(i, !s.contains('zzz')))")?.message == "cost limit 1000000 exceeded")
        let shared = "cel.bind(l, lists.range(50000), cel.bind(m, lists.range(1000).map(i, l), lists.range(1000).all(i, m == m)))"
        #expect(limitError(shared)?.message == "cost limit 1000000 exceeded")
        #expect(limitError("cel.bind(l, lists.range(50000), lists.range(50000).all(i, i in l))")?.message == "cost limit 1000000 exceeded")
        #expect(threadCPUSeconds() - start < 2.0)
    }

    @Test func sizesOfBuiltValuesAreCapped() {
        #expect(limitError("lists.range(1000000)")?.message == "list of 1000000 elements exceeds the limit of 100000")
        var options = CELOptions()
        options.maxStringSize = 1000
        #expect(limitError("'x'.replace('', 'aaaaaaaaaa').replace('a', 'aaaaaaaaaa').replace('a', 'aaaaaaaaaa').size()", options)?
            .message.hasPrefix("string of") == true)
        #expect(limitError("cel.bind(s, 'abcdefghij' + 'abcdefghij', cel.bind(t, s + s + s + s + s + s + s + s, t + t + t + t + t + t + t))", options)?
            .message.hasPrefix("string of") == true)
    }

    @Test func sourceSizeAndNestingAreRefusedAtCompileTime() {
        let deep = [
            String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000),
            String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000),
            String(repeating: "-", count: 10_000) + "1",
            String(repeating: "!", count: 10_000) + "true",
            "a" + String(repeating: ".b", count: 10_000),
            String(repeating: "1 + ", count: 10_000) + "1",
            String(repeating: "f(", count: 10_000) + String(repeating: ")", count: 10_000),
            String(repeating: "{1: ", count: 10_000) + "1" + String(repeating: "}", count: 10_000),
            String(repeating: "true ? 1 : ", count: 10_000) + "2",
        ]
        for source in deep {
            #expect(limitError(source) != nil, "\(source.prefix(20))…")
        }
        #expect(limitError(String(repeating: "1 && ", count: 60_000) + "1")?.message.contains("exceeds the limit") == true)
    }

    @Test func wideButShallowExpressionsAreFine() throws {
        let chain = Array(repeating: "true", count: 2000).joined(separator: " && ")
        #expect(try CELProgram(compiling: chain).evaluate().jsonText() == "true")
        let nested = String(repeating: "(", count: 200) + "1" + String(repeating: ")", count: 200)
        #expect(try CELProgram(compiling: nested).evaluate().jsonText() == "1")
    }

    /// Just under the depth limit, on a concurrency-pool thread: evaluation recursion fits the stack.
    @Test func expressionsAtTheDepthLimitEvaluate() async throws {
        let depth = 200
        let cases: [(String, String)] = [
            (String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + " != []", "true"),
            (String(repeating: "int(", count: depth) + "7" + String(repeating: ")", count: depth), "7"),
            (String(repeating: "-", count: depth) + "x", "5"),
            (String(repeating: "!", count: depth) + "true", "true"),
            (String(repeating: "x + ", count: depth) + "x", "\(5 * (depth + 1))"),
            ("[1]" + String(repeating: ".map(a, a)", count: depth / 4), "[1]"),
        ]
        for (source, expected) in cases {
            let result = try await Task.detached { try CELProgram(compiling: source).evaluate(["x": .int(5)]).jsonText() }.value
            #expect(result == expected, "\(source.prefix(30))…")
        }
    }
}
