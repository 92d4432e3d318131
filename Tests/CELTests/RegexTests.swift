import CEL
import Foundation
import Testing

/// `matches` uses RE2 syntax on a linear-time matcher.
@Suite struct RegexTests {
    func matches(_ text: String, _ pattern: String) throws -> Bool {
        let v = try CELProgram(compiling: "t.matches(p)").evaluate(["t": .string(text), "p": .string(pattern)])
        guard case .bool(let b) = v else { throw CELError(.evaluation, "not a bool: \(v)") }
        return b
    }

    static let cases: [(String, String, Bool)] = [
        ("hello", "ell", true), ("hello", "^ell", false), ("hello", "^h.*o$", true), ("hello", "^H", false),
        ("Hello", "(?i)^hello$", true), ("HELLO", "(?i:h)ELLO", true), ("hELLO", "(?i:h)ello", false),
        ("abc123", "^[a-z]+\\d+$", true), ("abc", "\\d", false), ("a_b", "^\\w+$", true), ("a b", "^\\S+$", false),
        ("x", "[^abc]", true), ("b", "^[^abc]$", false), ("-", "[a\\-z]", true), ("]", "[]a]", true),
        ("ab", "^(a|b)+$", true), ("abc", "^(a|b)+$", false), ("aaa", "^a{3}$", true), ("aaaa", "^a{2,3}$", false),
        ("aaaa", "^a{2,}$", true), ("a{", "a{", true), ("registry.example/web:1", "^registry\\.example/", true),
        ("registryXexample/web", "^registry\\.example/", false), ("sha256:" + String(repeating: "ab", count: 32), "^sha256:[a-f0-9]{64}$", true),
        ("line1\nline2", "^line2$", false), ("line1\nline2", "(?m)^line2$", true), ("a\nb", "a.b", false), ("a\nb", "(?s)a.b", true),
        ("foo bar", "\\bbar\\b", true), ("foobar", "\\bbar", false), ("café", "^caf.$", true), ("Ωmega", "^\\p{L}+$", true),
        ("123", "^\\pN+$", true), ("abc", "^[[:alpha:]]+$", true), ("a.b", "a\\.b", true), ("axb", "a\\.b", false),
        ("", "", true), ("abc", "", true), ("", "^$", true), ("x", "a|", true), ("ab", "a(?P<name>b)", true),
        ("a+b", "\\Qa+b\\E", true), ("\u{00e9}", "\\x{e9}", true), ("tab\there", "\\t", true),
    ]

    @Test func re2Syntax() throws {
        for (text, pattern, expected) in Self.cases {
            #expect(try matches(text, pattern) == expected, "'\(text)'.matches('\(pattern)')")
        }
    }

    @Test func patternsRE2RejectsAreErrors() {
        for pattern in ["(a)\\1", "(?=a)", "(?!a)", "(?<=a)b", "a**", "a{1001}", "(", ")", "[a", "*a", "\\p{Nope}"] {
            #expect(throws: CELError.self, "'\(pattern)'") { try matches("a", pattern) }
        }
    }

    @Test func catastrophicPatternsRunInLinearTime() throws {
        let start = Date()
        let text = String(repeating: "a", count: 5000) + "!"
        for pattern in ["^(a+)+$", "(a|aa)+$", "(a*)*b", "(x+x+)+y", "^(a|a?)+$"] {
            #expect(try matches(text, pattern) == false, "\(pattern)")
        }
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test func matchingWorkIsCharged() {
        var options = CELOptions()
        options.costLimit = 5000
        let text = String(repeating: "ab", count: 20_000)
        #expect(throws: CELError(.limit, "cost limit 5000 exceeded")) {
            try CELProgram(compiling: "t.matches('(a|b|ab|ba)*c')", options).evaluate(["t": .string(text)])
        }
    }
}
