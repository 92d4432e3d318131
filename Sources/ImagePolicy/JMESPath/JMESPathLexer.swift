/// JMESPath tokens (https://jmespath.org/specification.html).
enum JMESToken: Equatable {
    case identifier(String)        // unquoted
    case quotedIdentifier(String)
    case rawString(String)
    case literal(JSONValue)
    case number(Int)
    case dot, star, flatten, filter, lbracket, rbracket, lbrace, rbrace, lparen, rparen
    case comma, colon, pipe, or, and, not, current, expref
    case eq, ne, lt, lte, gt, gte
    case eof

    /// Left binding power (jmespath.py's table).
    var bindingPower: Int {
        switch self {
        case .pipe: 1
        case .or: 2
        case .and: 3
        case .eq, .ne, .lt, .lte, .gt, .gte: 5
        case .flatten: 9
        case .star: 20
        case .filter: 21
        case .dot: 40
        case .not: 45
        case .lbrace: 50
        case .lbracket: 55
        case .lparen: 60
        default: 0
        }
    }
}

/// A JMESPath syntax or runtime error.
public struct JMESPathError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable { case syntax, invalidType = "invalid-type", invalidValue = "invalid-value",
                                         invalidArity = "invalid-arity", unknownFunction = "unknown-function" }
    public let kind: Kind
    public let message: String
    public var description: String { "\(kind.rawValue): \(message)" }
}

struct JMESLexer {
    let chars: [Character]
    var i = 0

    init(_ text: String) { chars = Array(text) }

    static func tokenize(_ text: String) throws(JMESPathError) -> [(JMESToken, Int)] {
        var lx = JMESLexer(text)
        var out: [(JMESToken, Int)] = []
        while true {
            let (t, pos) = try lx.next()
            out.append((t, pos))
            if t == .eof { return out }
        }
    }

    func err(_ msg: String, _ pos: Int) -> JMESPathError {
        JMESPathError(kind: .syntax, message: "\(msg) at position \(pos)")
    }

    mutating func next() throws(JMESPathError) -> (JMESToken, Int) {
        while i < chars.count, chars[i] == " " || chars[i] == "\t" || chars[i] == "\n" || chars[i] == "\r" { i += 1 }
        let start = i
        guard i < chars.count else { return (.eof, i) }
        let c = chars[i]
        func peek(_ o: Int = 1) -> Character? { i + o < chars.count ? chars[i + o] : nil }
        switch c {
        case ".": i += 1; return (.dot, start)
        case "*": i += 1; return (.star, start)
        case "]": i += 1; return (.rbracket, start)
        case "{": i += 1; return (.lbrace, start)
        case "}": i += 1; return (.rbrace, start)
        case "(": i += 1; return (.lparen, start)
        case ")": i += 1; return (.rparen, start)
        case ",": i += 1; return (.comma, start)
        case ":": i += 1; return (.colon, start)
        case "@": i += 1; return (.current, start)
        case "[":
            if peek() == "]" { i += 2; return (.flatten, start) }
            if peek() == "?" { i += 2; return (.filter, start) }
            i += 1; return (.lbracket, start)
        case "|":
            if peek() == "|" { i += 2; return (.or, start) }
            i += 1; return (.pipe, start)
        case "&":
            if peek() == "&" { i += 2; return (.and, start) }
            i += 1; return (.expref, start)
        case "!":
            if peek() == "=" { i += 2; return (.ne, start) }
            i += 1; return (.not, start)
        case "=":
            if peek() == "=" { i += 2; return (.eq, start) }
            throw err("unexpected '=' (did you mean '=='?)", start)
        case "<":
            if peek() == "=" { i += 2; return (.lte, start) }
            i += 1; return (.lt, start)
        case ">":
            if peek() == "=" { i += 2; return (.gte, start) }
            i += 1; return (.gt, start)
        case "'":
            return (.rawString(try rawString()), start)
        case "\"":
            return (.quotedIdentifier(try quoted()), start)
        case "`":
            return (.literal(try literal()), start)
        case "-", "0"..."9":
            var s = ""
            if c == "-" { s = "-"; i += 1 }
            while i < chars.count, chars[i].isASCII, chars[i].isNumber { s.append(chars[i]); i += 1 }
            guard s != "-", let n = Int(s) else { throw err("invalid number", start) }
            return (.number(n), start)
        default:
            if c.isASCII && (c.isLetter || c == "_") {
                var s = ""
                while i < chars.count, chars[i].isASCII, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" {
                    s.append(chars[i]); i += 1
                }
                return (.identifier(s), start)
            }
            throw err("unexpected character '\(c)'", start)
        }
    }

    /// `'...'`: only `\'` is an escape.
    mutating func rawString() throws(JMESPathError) -> String {
        let start = i
        i += 1
        var s = ""
        while i < chars.count {
            let c = chars[i]
            if c == "\\", i + 1 < chars.count {
                // `\'` is a quote; any other escaped pair is kept verbatim (jmespath.py behaviour).
                if chars[i + 1] == "'" { s.append("'") } else { s.append(c); s.append(chars[i + 1]) }
                i += 2
                continue
            }
            if c == "'" { i += 1; return s }
            s.append(c); i += 1
        }
        throw err("unterminated raw string", start)
    }

    /// `"..."`: a JSON string.
    mutating func quoted() throws(JMESPathError) -> String {
        let start = i
        i += 1
        var body = "\""
        while i < chars.count {
            let c = chars[i]
            if c == "\\", i + 1 < chars.count { body.append(c); body.append(chars[i + 1]); i += 2; continue }
            if c == "\"" {
                i += 1
                body.append("\"")
                guard case .string(let s)? = try? JSONValue.parse(body) else { throw err("invalid quoted identifier", start) }
                return s
            }
            body.append(c); i += 1
        }
        throw err("unterminated quoted identifier", start)
    }

    /// `` `json` `` with `` \` `` escapes.
    mutating func literal() throws(JMESPathError) -> JSONValue {
        let start = i
        i += 1
        var body = ""
        while i < chars.count {
            let c = chars[i]
            if c == "\\", i + 1 < chars.count, chars[i + 1] == "`" { body.append("`"); i += 2; continue }
            if c == "`" {
                i += 1
                let trimmed = body.trimmingCharacters(in: .whitespaces)
                if let v = try? JSONValue.parse(trimmed) { return v }
                // Legacy: an unquoted string literal such as `foo`.
                if let v = try? JSONValue.parse("\"" + trimmed + "\"") { return v }
                throw err("invalid JSON literal `\(body)`", start)
            }
            body.append(c); i += 1
        }
        throw err("unterminated literal", start)
    }
}

import Foundation
