/// AST of the supported CUE subset.
indirect enum CUEExpr: Sendable {
    case string(String)
    case number(Double, isInt: Bool)
    case bool(Bool)
    case null
    case top                                  // _
    case bottom                               // _|_
    case kind(CUEKind)                        // string, int, number, float, bool
    case ref(String, line: Int, column: Int)
    case selector(CUEExpr, String, line: Int, column: Int)
    case call(CUEExpr, [CUEExpr], line: Int, column: Int)
    case bound(CUEBoundOp, CUEExpr)
    case and(CUEExpr, CUEExpr)
    case or(CUEExpr, CUEExpr)
    case structLit([CUEField])
    case list([CUEExpr], rest: CUEExpr?)
}

enum CUEKind: String, Sendable { case string, int, number, float, bool }
enum CUEBoundOp: String, Sendable { case lt = "<", lte = "<=", gt = ">", gte = ">=", ne = "!=", match = "=~", notMatch = "!~", eq = "==" }

struct CUEField: Sendable {
    let label: String
    let optional: Bool
    let value: CUEExpr
}

/// Recursive-descent parser; anything outside the subset is a compile error naming the construct.
struct CUEParser {
    var tokens: [(CUEToken, Int, Int)]
    var pos = 0
    var imports: Set<String> = []

    init(_ src: String) throws(CUEError) { tokens = try CUELexer.tokenize(src) }

    var cur: CUEToken { tokens[pos].0 }
    func peek(_ n: Int) -> CUEToken { pos + n < tokens.count ? tokens[pos + n].0 : .eof }
    mutating func advance() { if pos < tokens.count - 1 { pos += 1 } }
    func err(_ m: String) -> CUEError { CUEError(line: tokens[pos].1, column: tokens[pos].2, message: m) }
    mutating func skipNewlines() { while cur == .newline { advance() } }
    mutating func expect(_ t: CUEToken, _ what: String) throws(CUEError) {
        guard cur == t else { throw err("expected \(what), got \(describe(cur))") }
        advance()
    }

    func describe(_ t: CUEToken) -> String {
        switch t {
        case .ident(let s): "identifier \(s)"
        case .string(let s): "string \"\(s)\""
        case .number(let n, _): "number \(n)"
        case .newline: "newline"
        case .eof: "end of input"
        default: "\(t)"
        }
    }

    /// file := [package ident] {import} {declaration}
    mutating func parseFile() throws(CUEError) -> [CUEField] {
        skipNewlines()
        if cur == .ident("package") {
            advance()
            guard case .ident = cur else { throw err("expected package name") }
            advance()
            skipNewlines()
        }
        while cur == .ident("import") {
            advance()
            if cur == .lparen {
                advance(); skipNewlines()
                while cur != .rparen {
                    try importSpec()
                    skipNewlines()
                }
                advance()
            } else {
                try importSpec()
            }
            skipNewlines()
        }
        let fields = try declarations(until: .eof)
        return fields
    }

    mutating func importSpec() throws(CUEError) {
        guard case .string(let path) = cur else { throw err("expected import path") }
        guard path == "time" else { throw err("import \"\(path)\" is not supported (only \"time\")") }
        imports.insert(path)
        advance()
    }

    mutating func declarations(until end: CUEToken) throws(CUEError) -> [CUEField] {
        var fields: [CUEField] = []
        skipNewlines()
        while cur != end {
            if cur == .eof { throw err("unexpected end of input") }
            fields.append(try field())
            if cur == .comma || cur == .newline { advance(); skipNewlines(); continue }
            if cur != end { throw err("expected newline or ',' after field, got \(describe(cur))") }
        }
        return fields
    }

    func isLabelStart(_ i: Int) -> Bool {
        switch peek(i) {
        case .ident(let s): return !["import", "package", "let", "if", "for", "in"].contains(s) || peek(i + 1) == .colon
        case .string: return true
        default: return false
        }
    }

    /// label [?] : (label [?] :)* expr
    mutating func field() throws(CUEError) -> CUEField {
        let label: String
        switch cur {
        case .ident(let s):
            if ["let", "if", "for"].contains(s) { throw err("\(s) clauses are not supported in sealgate's CUE subset") }
            label = s
        case .string(let s): label = s
        case .lbracket: throw err("pattern constraints ([...]: x) are not supported in sealgate's CUE subset")
        case .ellipsis: throw err("open struct marker (...) is not supported; structs are open by default")
        default: throw err("expected a field (label: value), got \(describe(cur)); embedded values are not supported")
        }
        advance()
        var optional = false
        if cur == .question { optional = true; advance() }
        guard cur == .colon else { throw err("expected ':' after label \(label), got \(describe(cur))") }
        advance()
        // Shorthand `a: b: value`.
        if isLabelStart(0), peek(1) == .colon || (peek(1) == .question && peek(2) == .colon) {
            let inner = try field()
            return CUEField(label: label, optional: optional, value: .structLit([inner]))
        }
        return CUEField(label: label, optional: optional, value: try expression())
    }

    mutating func expression() throws(CUEError) -> CUEExpr {
        var left = try conjunction()
        while cur == .or {
            advance(); skipNewlines()
            left = .or(left, try conjunction())
        }
        return left
    }

    mutating func conjunction() throws(CUEError) -> CUEExpr {
        var left = try unary()
        while cur == .and {
            advance(); skipNewlines()
            left = .and(left, try unary())
        }
        return left
    }

    mutating func unary() throws(CUEError) -> CUEExpr {
        let op: CUEBoundOp?
        switch cur {
        case .lt: op = .lt
        case .lte: op = .lte
        case .gt: op = .gt
        case .gte: op = .gte
        case .ne: op = .ne
        case .match: op = .match
        case .notMatch: op = .notMatch
        case .eq: op = .eq
        default: op = nil
        }
        if let op {
            advance()
            return .bound(op, try primary())
        }
        let p = try primary()
        switch cur {
        case .lt, .lte, .gt, .gte, .eq, .ne, .match, .notMatch:
            throw err("binary comparison expressions are not supported; use a unary constraint like <x")
        default: return p
        }
    }

    mutating func primary() throws(CUEError) -> CUEExpr {
        let (tok, line, col) = tokens[pos]
        var e: CUEExpr
        switch tok {
        case .string(let s): advance(); e = .string(s)
        case .number(let n, let isInt): advance(); e = .number(n, isInt: isInt)
        case .lbrace:
            advance()
            let fields = try declarations(until: .rbrace)
            advance()
            e = .structLit(fields)
        case .lbracket:
            advance(); skipNewlines()
            var items: [CUEExpr] = []
            var rest: CUEExpr?
            while cur != .rbracket {
                if cur == .ellipsis {
                    advance()
                    rest = cur == .rbracket || cur == .newline || cur == .comma ? .top : try expression()
                    skipNewlines()
                    if cur == .comma { advance(); skipNewlines() }
                    guard cur == .rbracket else { throw err("... must be the last list element") }
                    break
                }
                items.append(try expression())
                skipNewlines()
                if cur == .comma { advance(); skipNewlines() } else if cur != .rbracket {
                    throw err("expected ',' or ']' in list, got \(describe(cur))")
                }
            }
            advance()
            e = .list(items, rest: rest)
        case .lparen:
            advance(); skipNewlines()
            e = try expression()
            skipNewlines()
            try expect(.rparen, "')'")
        case .ident(let name):
            advance()
            switch name {
            case "true": e = .bool(true)
            case "false": e = .bool(false)
            case "null": e = .null
            case "_":
                if cur == .or, peek(1) == .ident("_") { advance(); advance(); e = .bottom } else { e = .top }
            case "string", "int", "number", "float", "bool": e = .kind(CUEKind(rawValue: name)!)
            case "for", "if", "let":
                throw CUEError(line: line, column: col, message: "\(name) comprehensions are not supported in sealgate's CUE subset")
            case "bytes", "uint", "rune", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64":
                throw CUEError(line: line, column: col, message: "type \(name) is not supported in sealgate's CUE subset")
            default: e = .ref(name, line: line, column: col)
            }
        default:
            throw err("unexpected \(describe(tok))")
        }
        // Postfix: selectors and calls.
        while true {
            if cur == .dot {
                let (_, l, c) = tokens[pos]
                advance()
                guard case .ident(let sel) = cur else { throw err("expected identifier after '.'") }
                advance()
                e = .selector(e, sel, line: l, column: c)
            } else if cur == .lparen {
                let (_, l, c) = tokens[pos]
                advance(); skipNewlines()
                var args: [CUEExpr] = []
                while cur != .rparen {
                    args.append(try expression())
                    skipNewlines()
                    if cur == .comma { advance(); skipNewlines() } else if cur != .rparen {
                        throw err("expected ',' or ')' in call")
                    }
                }
                advance()
                e = .call(e, args, line: l, column: c)
            } else if cur == .lbracket {
                throw err("index expressions are not supported in sealgate's CUE subset")
            } else {
                return e
            }
        }
    }
}
