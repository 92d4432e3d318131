/// A parser for RE2 syntax (what CEL's `matches` specifies), producing a tree that RegexProgram
/// compiles for a linear-time matcher: no backtracking, so no pattern can make a match run away.
/// Backreferences and lookaround, which RE2 does not have, are refused.
indirect enum RegexNode {
    case empty
    case literal(Unicode.Scalar, foldCase: Bool)
    case any(matchesNewline: Bool)
    case set(RegexSet)
    case concat([RegexNode])
    case alternate([RegexNode])
    case repeating(RegexNode, min: Int, max: Int?)
    case assertion(RegexAssertion)
}

enum RegexAssertion { case textStart, textEnd, lineStart, lineEnd, wordBoundary, notWordBoundary }

/// A character class: ranges and Unicode general categories, possibly negated and case-folded.
struct RegexSet {
    var ranges: [ClosedRange<UInt32>] = []
    var categories: [(Set<Unicode.GeneralCategory>, negated: Bool)] = []
    var negated = false
    var foldCase = false

    func contains(_ c: Unicode.Scalar) -> Bool {
        if directlyContains(c) != negated { return true }
        guard foldCase else { return false }
        for variant in RegexSet.caseVariants(c) where variant != c {
            if directlyContains(variant) != negated { return true }
        }
        return false
    }

    private func directlyContains(_ c: Unicode.Scalar) -> Bool {
        for r in ranges where r.contains(c.value) { return true }
        for (set, negated) in categories where set.contains(c.properties.generalCategory) != negated { return true }
        return false
    }

    static func caseVariants(_ c: Unicode.Scalar) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        for mapping in [c.properties.lowercaseMapping, c.properties.uppercaseMapping] {
            let scalars = Array(mapping.unicodeScalars)
            if scalars.count == 1 { out.append(scalars[0]) }
        }
        return out
    }
}

struct RegexParser {
    private let chars: [Unicode.Scalar]
    private var pos = 0
    private var depth = 0
    private var foldCase = false
    private var dotMatchesNewline = false
    private var multiLine = false

    static func parse(_ pattern: String) throws -> RegexNode {
        var p = RegexParser(chars: Array(pattern.unicodeScalars))
        let node = try p.alternation()
        guard p.pos == p.chars.count else { throw p.fail("unexpected )") }
        return node
    }

    private init(chars: [Unicode.Scalar]) { self.chars = chars }

    private func fail(_ message: String) -> CELError {
        CELError.eval("invalid regular expression: \(message) at offset \(pos)")
    }

    private func peek(_ ahead: Int = 0) -> Unicode.Scalar? { pos + ahead < chars.count ? chars[pos + ahead] : nil }

    private mutating func alternation() throws -> RegexNode {
        depth += 1
        defer { depth -= 1 }
        if depth > 100 { throw fail("nesting too deep") }
        var branches = [try concatenation()]
        while peek() == "|" {
            pos += 1
            branches.append(try concatenation())
        }
        return branches.count == 1 ? branches[0] : .alternate(branches)
    }

    private mutating func concatenation() throws -> RegexNode {
        var items: [RegexNode] = []
        while let c = peek(), c != "|", c != ")" {
            var atom = try self.atom()
            while let q = peek(), q == "*" || q == "+" || q == "?" || (q == "{" && countedRepeatAhead()) {
                if case .assertion = atom { throw fail("missing argument to repetition operator") }
                if case .empty = atom { throw fail("missing argument to repetition operator") }
                atom = try repetition(atom)
            }
            items.append(atom)
        }
        return items.count == 1 ? items[0] : .concat(items)
    }

    private func countedRepeatAhead() -> Bool {
        var i = pos + 1
        var sawDigit = false
        while i < chars.count, chars[i].properties.numericType != nil, chars[i].isASCII { i += 1; sawDigit = true }
        guard sawDigit, i < chars.count else { return false }
        if chars[i] == "}" { return true }
        guard chars[i] == "," else { return false }
        i += 1
        while i < chars.count, chars[i].isASCII, chars[i].properties.numericType != nil { i += 1 }
        return i < chars.count && chars[i] == "}"
    }

    private mutating func repetition(_ atom: RegexNode) throws -> RegexNode {
        let q = chars[pos]
        pos += 1
        var min = 0, max: Int? = nil
        switch q {
        case "*": break
        case "+": min = 1
        case "?": max = 1
        default:
            min = number()
            max = min
            if peek() == "," {
                pos += 1
                max = peek() == "}" ? nil : number()
            }
            pos += 1  // "}"
            if min > 1000 || (max ?? 0) > 1000 { throw fail("repeat count too large (limit 1000)") }
            if let m = max, m < min { throw fail("invalid repeat count") }
        }
        if peek() == "?" { pos += 1 }  // lazy: the same answer for a yes/no match
        if let p = peek(), p == "*" || p == "+" || p == "?" { throw fail("invalid nested repetition operator") }
        return .repeating(atom, min: min, max: max)
    }

    private mutating func number() -> Int {
        var n = 0
        while let c = peek(), c.isASCII, let d = Int(String(c)), n < 100_000 { n = n * 10 + d; pos += 1 }
        return n
    }

    private mutating func atom() throws -> RegexNode {
        guard let c = peek() else { throw fail("unexpected end") }
        pos += 1
        switch c {
        case "(": return try group()
        case ".": return .any(matchesNewline: dotMatchesNewline)
        case "^": return .assertion(multiLine ? .lineStart : .textStart)
        case "$": return .assertion(multiLine ? .lineEnd : .textEnd)
        case "[": return .set(try characterClass())
        case "\\": return try escape(inClass: false)
        case "*", "+", "?": throw fail("missing argument to repetition operator")
        default: return .literal(c, foldCase: foldCase)
        }
    }

    private mutating func group() throws -> RegexNode {
        if peek() == "?" {
            pos += 1
            if peek() == "P" || (peek() == "<" && peek(1) != "=" && peek(1) != "!") {
                // Named group: (?P<name>...) or (?<name>...).
                if peek() == "P" { pos += 1 }
                guard peek() == "<" else { throw fail("invalid named group") }
                while let c = peek(), c != ">" { pos += 1 }
                guard peek() == ">" else { throw fail("invalid named group") }
                pos += 1
                return try groupBody(restoring: true)
            }
            // Flags: (?i) (?s) (?m) (?U), optionally negated, optionally scoped (?i:...).
            let saved = (foldCase, dotMatchesNewline, multiLine)
            var on = true
            while let c = peek(), c != ")", c != ":" {
                pos += 1
                switch c {
                case "-": on = false
                case "i": foldCase = on
                case "s": dotMatchesNewline = on
                case "m": multiLine = on
                case "U": break
                default: throw fail("invalid or unsupported group flag '\(c)' (RE2 has no lookaround or backreferences)")
                }
            }
            guard let end = peek() else { throw fail("missing )") }
            pos += 1
            if end == ")" { return .empty }
            let body = try alternation()
            guard peek() == ")" else { throw fail("missing )") }
            pos += 1
            (foldCase, dotMatchesNewline, multiLine) = saved
            return body
        }
        return try groupBody(restoring: true)
    }

    private mutating func groupBody(restoring: Bool) throws -> RegexNode {
        let saved = (foldCase, dotMatchesNewline, multiLine)
        let body = try alternation()
        guard peek() == ")" else { throw fail("missing )") }
        pos += 1
        if restoring { (foldCase, dotMatchesNewline, multiLine) = saved }
        return body
    }

    private static let perlClasses: [Unicode.Scalar: [ClosedRange<UInt32>]] = [
        "d": [48...57], "w": [48...57, 65...90, 97...122, 95...95], "s": [9...10, 12...13, 32...32],
    ]

    private mutating func escape(inClass: Bool) throws -> RegexNode {
        guard let c = peek() else { throw fail("trailing backslash") }
        pos += 1
        let perl: [Unicode.Scalar: Unicode.Scalar] = ["d": "d", "D": "d", "w": "w", "W": "w", "s": "s", "S": "s"]
        if let base = perl[c], let ranges = Self.perlClasses[base] {
            return .set(RegexSet(ranges: ranges, negated: base != c))
        }
        switch c {
        case "A" where !inClass: return .assertion(.textStart)
        case "z" where !inClass: return .assertion(.textEnd)
        case "b" where !inClass: return .assertion(.wordBoundary)
        case "B" where !inClass: return .assertion(.notWordBoundary)
        case "n": return .literal("\n", foldCase: false)
        case "t": return .literal("\t", foldCase: false)
        case "r": return .literal("\r", foldCase: false)
        case "f": return .literal("\u{0C}", foldCase: false)
        case "v": return .literal("\u{0B}", foldCase: false)
        case "a": return .literal("\u{07}", foldCase: false)
        case "x": return .literal(try hexEscape(), foldCase: foldCase)
        case "p", "P": return .set(try unicodeClass(negated: c == "P"))
        case "Q":
            var items: [RegexNode] = []
            while pos < chars.count {
                if chars[pos] == "\\", peek(1) == "E" { pos += 2; break }
                items.append(.literal(chars[pos], foldCase: foldCase))
                pos += 1
            }
            return .concat(items)
        default:
            if c.isASCII, c.properties.numericType != nil, c != "0" { throw fail("backreferences are not supported") }
            if c == "0" { return .literal("\0", foldCase: false) }
            guard c.isASCII, !c.properties.isAlphabetic else { throw fail("invalid escape \\\(c)") }
            return .literal(c, foldCase: foldCase)
        }
    }

    private mutating func hexEscape() throws -> Unicode.Scalar {
        var digits = ""
        if peek() == "{" {
            pos += 1
            while let c = peek(), c != "}", digits.count < 9 { digits.unicodeScalars.append(c); pos += 1 }
            guard peek() == "}" else { throw fail("invalid \\x{...} escape") }
            pos += 1
        } else {
            for _ in 0..<2 {
                guard let c = peek() else { throw fail("invalid \\x escape") }
                digits.unicodeScalars.append(c)
                pos += 1
            }
        }
        guard let v = UInt32(digits, radix: 16), let s = Unicode.Scalar(v) else { throw fail("invalid hex escape") }
        return s
    }

    private mutating func unicodeClass(negated: Bool) throws -> RegexSet {
        var name = ""
        if peek() == "{" {
            pos += 1
            while let c = peek(), c != "}", name.count < 40 { name.unicodeScalars.append(c); pos += 1 }
            guard peek() == "}" else { throw fail("invalid \\p{...} class") }
            pos += 1
        } else if let c = peek() {
            name = String(c)
            pos += 1
        }
        var negate = negated
        if name.hasPrefix("^") { negate.toggle(); name.removeFirst() }
        guard let categories = UnicodeCategories.named[name] else { throw fail("unsupported Unicode class \(name)") }
        var set = RegexSet(foldCase: false)
        set.categories = [(categories, negated: false)]
        set.negated = negate
        return set
    }

    private mutating func characterClass() throws -> RegexSet {
        var set = RegexSet(foldCase: foldCase)
        if peek() == "^" { set.negated = true; pos += 1 }
        var first = true
        while let c = peek(), c != "]" || first {
            first = false
            if c == "[", peek(1) == ":" {
                guard let end = ((pos + 3)..<max(chars.count, pos + 3)).first(where: { chars[$0] == "]" && chars[$0 - 1] == ":" }) else {
                    throw fail("invalid POSIX class")
                }
                let name = String(String.UnicodeScalarView(chars[(pos + 2)..<(end - 1)]))
                guard let ranges = UnicodeCategories.posix[name.hasPrefix("^") ? String(name.dropFirst()) : name] else { throw fail("invalid POSIX class \(name)") }
                if name.hasPrefix("^") { throw fail("negated POSIX classes are not supported") }
                set.ranges += ranges
                pos = end + 1
                continue
            }
            let low = try classMember(&set)
            guard let lo = low else { continue }
            if peek() == "-", let after = peek(1), after != "]" {
                pos += 1
                var ignored = RegexSet()
                guard let hi = try classMember(&ignored), hi.value >= lo.value else { throw fail("invalid character class range") }
                set.ranges.append(lo.value...hi.value)
            } else {
                set.ranges.append(lo.value...lo.value)
            }
        }
        guard peek() == "]" else { throw fail("missing ]") }
        pos += 1
        return set
    }

    /// One member of a class: a single character (returned) or an escape class merged into `set` (nil).
    private mutating func classMember(_ set: inout RegexSet) throws -> Unicode.Scalar? {
        guard let c = peek() else { throw fail("missing ]") }
        pos += 1
        guard c == "\\" else { return c }
        switch try escape(inClass: true) {
        case .literal(let s, _): return s
        case .set(let inner):
            if inner.negated || !inner.categories.isEmpty {
                set.categories.append(contentsOf: inner.categories.map { ($0.0, negated: $0.negated != inner.negated) })
                if inner.negated && inner.categories.isEmpty {
                    // \D \W \S inside a class: everything outside the listed ranges.
                    set.ranges += RegexSet.complement(inner.ranges)
                }
            } else {
                set.ranges += inner.ranges
            }
            return nil
        default:
            throw fail("invalid escape in character class")
        }
    }
}

extension RegexSet {
    static func complement(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var out: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for r in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if r.lowerBound > next { out.append(next...(r.lowerBound - 1)) }
            next = max(next, r.upperBound + 1)
        }
        if next <= 0x10FFFF { out.append(next...0x10FFFF) }
        return out
    }
}
