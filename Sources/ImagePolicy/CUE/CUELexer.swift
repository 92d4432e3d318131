/// Tokens of the supported CUE subset.
enum CUEToken: Equatable {
    case ident(String)
    case string(String)
    case number(Double, isInt: Bool)
    case lbrace, rbrace, lbracket, rbracket, lparen, rparen
    case colon, comma, dot, question, newline, ellipsis
    case or, and                    // | &
    case lt, lte, gt, gte, ne, eq, match, notMatch  // < <= > >= != == =~ !~
    case eof
}

/// A CUE compile error with line and column.
public struct CUEError: Error, Sendable, CustomStringConvertible, Equatable {
    public let line: Int
    public let column: Int
    public let message: String
    public var description: String { "line \(line) column \(column): \(message)" }
}

struct CUELexer {
    let chars: [Character]
    var i = 0, line = 1, col = 1
    /// Position of the last token returned by `next()`.
    var startLine = 1, startCol = 1

    init(_ s: String) { chars = Array(s) }

    func err(_ m: String) -> CUEError { CUEError(line: line, column: col, message: m) }

    static func tokenize(_ s: String) throws(CUEError) -> [(CUEToken, Int, Int)] {
        var lx = CUELexer(s)
        var out: [(CUEToken, Int, Int)] = []
        while true {
            let t = try lx.next()
            let (l, c) = (lx.startLine, lx.startCol)
            // CUE's automatic comma rule: a newline only separates after an identifier,
            // literal or closing bracket; elsewhere (e.g. after `:`) it is whitespace.
            if t == .newline {
                switch out.last?.0 {
                case .ident?, .string?, .number?, .rbrace?, .rbracket?, .rparen?, .ellipsis?: break
                default: continue
                }
            }
            out.append((t, l, c))
            if t == .eof { return out }
        }
    }

    mutating func bump() {
        if chars[i] == "\n" { line += 1; col = 1 } else { col += 1 }
        i += 1
    }

    mutating func next() throws(CUEError) -> CUEToken {
        while i < chars.count {
            let c = chars[i]
            if c == " " || c == "\t" || c == "\r" { bump(); continue }
            if c == "/", i + 1 < chars.count, chars[i + 1] == "/" {
                while i < chars.count, chars[i] != "\n" { bump() }
                continue
            }
            break
        }
        (startLine, startCol) = (line, col)
        guard i < chars.count else { return .eof }
        let c = chars[i]
        let n: Character? = i + 1 < chars.count ? chars[i + 1] : nil
        func two(_ t: CUEToken) -> CUEToken { bump(); bump(); return t }
        func one(_ t: CUEToken) -> CUEToken { bump(); return t }
        switch c {
        case "\n": return one(.newline)
        case "{": return one(.lbrace)
        case "}": return one(.rbrace)
        case "[": return one(.lbracket)
        case "]": return one(.rbracket)
        case "(": return one(.lparen)
        case ")": return one(.rparen)
        case ":": return one(.colon)
        case ",": return one(.comma)
        case "?": return one(.question)
        case "|":
            if n == "|" { throw err("operator || is not supported in sealgate's CUE subset") }
            return one(.or)
        case "&":
            if n == "&" { throw err("operator && is not supported in sealgate's CUE subset") }
            return one(.and)
        case "<": return n == "=" ? two(.lte) : one(.lt)
        case ">": return n == "=" ? two(.gte) : one(.gt)
        case "!":
            if n == "=" { return two(.ne) }
            if n == "~" { return two(.notMatch) }
            throw err("operator ! is not supported in sealgate's CUE subset")
        case "=":
            if n == "~" { return two(.match) }
            if n == "=" { return two(.eq) }
            throw err("aliases (=) are not supported in sealgate's CUE subset")
        case ".":
            if n == ".", i + 2 < chars.count, chars[i + 2] == "." { bump(); bump(); bump(); return .ellipsis }
            return one(.dot)
        case "\"":
            return .string(try string())
        case "#":
            throw err("definitions (#) are not supported in sealgate's CUE subset")
        case "@":
            throw err("attributes (@) are not supported in sealgate's CUE subset")
        case "'":
            throw err("byte strings are not supported in sealgate's CUE subset")
        default:
            if c.isNumber || (c == "-" && (n?.isNumber ?? false)) { return try number() }
            if c.isLetter || c == "_" || c == "$" {
                var s = ""
                while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" || chars[i] == "$" {
                    s.append(chars[i]); bump()
                }
                return .ident(s)
            }
            throw err("unexpected character '\(c)'")
        }
    }

    mutating func number() throws(CUEError) -> CUEToken {
        var s = ""
        if chars[i] == "-" { s.append("-"); bump() }
        var isInt = true
        while i < chars.count, chars[i].isNumber || chars[i] == "." || chars[i] == "e" || chars[i] == "E" || chars[i] == "_"
                || ((chars[i] == "+" || chars[i] == "-") && (s.last == "e" || s.last == "E")) {
            if chars[i] == "." || chars[i] == "e" || chars[i] == "E" { isInt = false }
            if chars[i] != "_" { s.append(chars[i]) }
            bump()
        }
        if i < chars.count, chars[i].isLetter { throw err("number multipliers (like 1Ki) are not supported") }
        guard let d = Double(s) else { throw err("invalid number \(s)") }
        return .number(d, isInt: isInt)
    }

    mutating func string() throws(CUEError) -> String {
        if i + 2 < chars.count, chars[i + 1] == "\"", chars[i + 2] == "\"" {
            throw err("multi-line strings are not supported in sealgate's CUE subset")
        }
        bump()
        var s = ""
        while i < chars.count {
            let c = chars[i]
            if c == "\n" { throw err("newline in string") }
            if c == "\"" { bump(); return s }
            if c == "\\" {
                guard i + 1 < chars.count else { break }
                let e = chars[i + 1]
                bump(); bump()
                switch e {
                case "n": s.append("\n")
                case "t": s.append("\t")
                case "r": s.append("\r")
                case "\"": s.append("\"")
                case "\\": s.append("\\")
                case "/": s.append("/")
                case "u":
                    var hex = ""
                    for _ in 0..<4 where i < chars.count { hex.append(chars[i]); bump() }
                    guard let v = UInt32(hex, radix: 16), let u = Unicode.Scalar(v) else { throw err("invalid \\u escape") }
                    s.unicodeScalars.append(u)
                case "(": throw err("string interpolation is not supported in sealgate's CUE subset")
                default: throw err("unknown escape \\\(e)")
                }
                continue
            }
            s.append(c); bump()
        }
        throw err("unterminated string")
    }
}
