/// Splits CEL source text into tokens. Works on unicode scalars so that string literals keep
/// every code point and offsets in messages are code-point positions.
struct Token: Sendable {
    enum Kind: Sendable, Equatable {
        case ident(String)
        /// A backtick-quoted field name (`a.`b-c``), allowed only after a dot.
        case quotedField(String)
        case int(String)       // decimal or 0x hex digits, sign not included
        case uint(String)
        case double(String)
        case string(String)
        case bytes([UInt8])
        case punct(String)
        case end
    }
    let kind: Kind
    let offset: Int
}

struct Lexer {
    private let chars: [Unicode.Scalar]
    private var pos = 0

    init(_ source: String) { chars = Array(source.unicodeScalars) }

    static func tokenize(_ source: String) throws -> [Token] {
        var lexer = Lexer(source)
        var tokens: [Token] = []
        while true {
            let token = try lexer.next()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    private func peek(_ ahead: Int = 0) -> Unicode.Scalar? {
        let i = pos + ahead
        return i < chars.count ? chars[i] : nil
    }

    private func fail(_ message: String, at offset: Int) -> CELError {
        CELError.syntax("\(message) at offset \(offset)")
    }

    private mutating func skipSpaceAndComments() {
        while let c = peek() {
            if c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0C}" {
                pos += 1
            } else if c == "/", peek(1) == "/" {
                while let d = peek(), d != "\n" { pos += 1 }
            } else {
                return
            }
        }
    }

    mutating func next() throws -> Token {
        skipSpaceAndComments()
        let start = pos
        guard let c = peek() else { return Token(kind: .end, offset: pos) }
        if isDigit(c) || (c == "." && peek(1).map(isDigit) == true) {
            return Token(kind: try number(), offset: start)
        }
        if isIdentStart(c) {
            // String prefixes: r, b, br, rb in either case.
            var prefix = ""
            var look = 0
            while look < 2, let p = peek(look), "rRbB".unicodeScalars.contains(p) { prefix.unicodeScalars.append(p); look += 1 }
            while !prefix.isEmpty {
                if let q = peek(prefix.unicodeScalars.count), q == "'" || q == "\"" {
                    let lower = prefix.lowercased()
                    if lower == "r" || lower == "b" || lower == "br" || lower == "rb" {
                        pos += prefix.unicodeScalars.count
                        return Token(kind: try quoted(raw: lower.contains("r"), bytes: lower.contains("b")), offset: start)
                    }
                }
                prefix.unicodeScalars.removeLast()
            }
            var name = ""
            while let d = peek(), isIdentStart(d) || isDigit(d) { name.unicodeScalars.append(d); pos += 1 }
            return Token(kind: .ident(name), offset: start)
        }
        if c == "`" {
            pos += 1
            var name = ""
            while let d = peek(), d != "`" {
                if d == "\n" || d == "\r" { break }
                name.unicodeScalars.append(d)
                pos += 1
            }
            guard peek() == "`", !name.isEmpty else { throw fail("unterminated quoted field name", at: start) }
            pos += 1
            return Token(kind: .quotedField(name), offset: start)
        }
        if c == "'" || c == "\"" {
            return Token(kind: try quoted(raw: false, bytes: false), offset: start)
        }
        for op in ["==", "!=", "<=", ">=", "&&", "||", ".?", "[?"] {
            let s = Array(op.unicodeScalars)
            if peek() == s[0], peek(1) == s[1] {
                pos += 2
                return Token(kind: .punct(op), offset: start)
            }
        }
        if "+-*/%!<>?:.,()[]{}".unicodeScalars.contains(c) {
            pos += 1
            return Token(kind: .punct(String(c)), offset: start)
        }
        throw fail("unexpected character '\(c)'", at: start)
    }

    private func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }
    private func isHex(_ c: Unicode.Scalar) -> Bool { isDigit(c) || (c >= "a" && c <= "f") || (c >= "A" && c <= "F") }
    private func isIdentStart(_ c: Unicode.Scalar) -> Bool { (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_" }

    private mutating func number() throws -> Token.Kind {
        let start = pos
        if peek() == "0", let x = peek(1), x == "x" || x == "X" {
            pos += 2
            var digits = ""
            while let d = peek(), isHex(d) { digits.unicodeScalars.append(d); pos += 1 }
            if digits.isEmpty { throw fail("malformed hex literal", at: start) }
            if let u = peek(), u == "u" || u == "U" { pos += 1; return .uint("0x" + digits) }
            return .int("0x" + digits)
        }
        var text = ""
        var isDouble = false
        while let d = peek(), isDigit(d) { text.unicodeScalars.append(d); pos += 1 }
        if peek() == ".", let d = peek(1), isDigit(d) {
            isDouble = true
            text += "."
            pos += 1
            while let d = peek(), isDigit(d) { text.unicodeScalars.append(d); pos += 1 }
        }
        if let e = peek(), e == "e" || e == "E" {
            var look = 1
            if let s = peek(1), s == "+" || s == "-" { look = 2 }
            if let d = peek(look), isDigit(d) {
                isDouble = true
                for _ in 0..<look { text.unicodeScalars.append(chars[pos]); pos += 1 }
                while let d = peek(), isDigit(d) { text.unicodeScalars.append(d); pos += 1 }
            }
        }
        if isDouble { return .double(text) }
        if let u = peek(), u == "u" || u == "U" { pos += 1; return .uint(text) }
        return .int(text)
    }

    /// A string or bytes literal; the opening quote is at `pos`.
    private mutating func quoted(raw: Bool, bytes: Bool) throws -> Token.Kind {
        let start = pos
        guard let quote = peek() else { throw fail("unterminated literal", at: start) }
        let triple = peek(1) == quote && peek(2) == quote
        pos += triple ? 3 : 1
        var out: [UInt8] = []        // bytes literals
        var text = String.UnicodeScalarView()
        func appendScalar(_ s: Unicode.Scalar) {
            if bytes { out.append(contentsOf: Array(String(s).utf8)) } else { text.append(s) }
        }
        while true {
            guard let c = peek() else { throw fail("unterminated literal", at: start) }
            if c == quote && (!triple || (peek(1) == quote && peek(2) == quote)) {
                pos += triple ? 3 : 1
                break
            }
            if !triple && (c == "\n" || c == "\r") { throw fail("newline in literal", at: pos) }
            pos += 1
            if c != "\\" { appendScalar(c); continue }
            guard let e = peek() else { throw fail("unterminated literal", at: start) }
            if raw {
                // Raw literals keep the backslash; it still stops an escaped quote from ending the literal.
                appendScalar("\\")
                if e == quote { appendScalar(e); pos += 1 }
                continue
            }
            pos += 1
            switch e {
            case "a": appendScalar("\u{07}")
            case "b": appendScalar("\u{08}")
            case "f": appendScalar("\u{0C}")
            case "n": appendScalar("\n")
            case "r": appendScalar("\r")
            case "t": appendScalar("\t")
            case "v": appendScalar("\u{0B}")
            case "\\", "?", "\"", "'", "`": appendScalar(e)
            case "x", "X", "u", "U":
                let count = (e == "x" || e == "X") ? 2 : (e == "u" ? 4 : 8)
                if bytes && count != 2 { throw fail("unicode escape in bytes literal", at: pos - 2) }
                var value: UInt32 = 0
                for _ in 0..<count {
                    guard let h = peek(), isHex(h), let v = UInt32(String(h), radix: 16) else { throw fail("malformed escape", at: pos) }
                    value = value * 16 + v
                    pos += 1
                }
                if bytes { out.append(UInt8(value)) } else {
                    guard let s = Unicode.Scalar(value) else { throw fail("invalid code point in escape", at: pos) }
                    text.append(s)
                }
            case "0"..."3":
                var value = UInt32(e.value - 48)
                for _ in 0..<2 {
                    guard let d = peek(), d >= "0" && d <= "7" else { throw fail("malformed octal escape", at: pos) }
                    value = value * 8 + (d.value - 48)
                    pos += 1
                }
                if bytes { out.append(UInt8(value)) } else {
                    guard let s = Unicode.Scalar(value) else { throw fail("invalid octal escape", at: pos) }
                    text.append(s)
                }
            default:
                throw fail("invalid escape '\\\(e)'", at: pos - 2)
            }
        }
        return bytes ? .bytes(out) : .string(String(text))
    }
}
