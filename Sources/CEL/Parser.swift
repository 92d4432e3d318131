/// Recursive-descent parser for the CEL grammar (cel-spec langdef.md), with the macros expanded
/// as it goes (Macros.swift). Nesting is bounded by `maxDepth` so hostile input is refused, not a stack overflow.
struct Parser {
    private let tokens: [Token]
    private var pos = 0
    private var depth = 0
    private let maxDepth: Int
    /// Nodes built so far, checked against `maxNodes`.
    private(set) var nodes = 0
    private let maxNodes: Int

    static let reserved: Set<String> = [
        "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop",
        "package", "namespace", "return", "var", "void", "while",
    ]

    init(_ source: String, maxDepth: Int, maxNodes: Int) throws {
        tokens = try Lexer.tokenize(source)
        self.maxDepth = maxDepth
        self.maxNodes = maxNodes
    }

    mutating func parseAll() throws -> Expr {
        let e = try parseExpr()
        guard case .end = current.kind else { throw fail("unexpected \(describe(current))") }
        return e
    }

    // MARK: token helpers

    private var current: Token { tokens[min(pos, tokens.count - 1)] }
    private func peekKind(_ ahead: Int) -> Token.Kind { tokens[min(pos + ahead, tokens.count - 1)].kind }

    private func describe(_ t: Token) -> String {
        switch t.kind {
        case .end: return "end of input"
        case .punct(let p): return "'\(p)'"
        case .ident(let n): return "'\(n)'"
        default: return "literal"
        }
    }

    func fail(_ message: String) -> CELError {
        CELError.syntax("\(message) at offset \(current.offset)")
    }

    private mutating func accept(_ punct: String) -> Bool {
        if case .punct(let p) = current.kind, p == punct { pos += 1; return true }
        return false
    }

    private mutating func expect(_ punct: String) throws {
        guard accept(punct) else { throw fail("expected '\(punct)' but found \(describe(current))") }
    }

    private func isPunct(_ punct: String) -> Bool {
        if case .punct(let p) = current.kind { return p == punct }
        return false
    }

    mutating func node(_ e: Expr) throws -> Expr {
        nodes += 1
        if nodes > maxNodes { throw CELError.limit("expression has more than \(maxNodes) nodes") }
        return e
    }

    private mutating func enter() throws {
        depth += 1
        if depth > maxDepth { throw CELError.limit("expression nesting deeper than \(maxDepth)") }
    }

    // MARK: grammar

    mutating func parseExpr() throws -> Expr {
        try enter()
        defer { depth -= 1 }
        let condition = try parseOr()
        guard accept("?") else { return condition }
        let then = try parseOr()
        try expect(":")
        let otherwise = try parseExpr()
        return try node(.conditional(condition, then, otherwise))
    }

    private mutating func parseOr() throws -> Expr {
        var terms = [try parseAnd()]
        while accept("||") { terms.append(try parseAnd()) }
        return terms.count == 1 ? terms[0] : try node(.or(terms))
    }

    private mutating func parseAnd() throws -> Expr {
        var terms = [try parseRelation()]
        while accept("&&") { terms.append(try parseRelation()) }
        return terms.count == 1 ? terms[0] : try node(.and(terms))
    }

    private static let relations: [String: BinaryOperator] = [
        "<": .less, "<=": .lessOrEqual, ">": .greater, ">=": .greaterOrEqual, "==": .equal, "!=": .notEqual,
    ]

    private mutating func parseRelation() throws -> Expr {
        var left = try parseAddition()
        let saved = depth
        defer { depth = saved }
        while true {
            var function: BinaryOperator?
            if case .punct(let p) = current.kind { function = Self.relations[p] }
            if case .ident("in") = current.kind { function = .inside }
            guard let f = function else { return left }
            pos += 1
            try enter()
            let right = try parseAddition()
            left = try node(.binary(f, left, right))
        }
    }

    private mutating func parseAddition() throws -> Expr {
        var left = try parseMultiplication()
        let saved = depth
        defer { depth = saved }
        while isPunct("+") || isPunct("-") {
            let f: BinaryOperator = isPunct("+") ? .add : .subtract
            pos += 1
            try enter()
            let right = try parseMultiplication()
            left = try node(.binary(f, left, right))
        }
        return left
    }

    private mutating func parseMultiplication() throws -> Expr {
        var left = try parseUnary()
        let saved = depth
        defer { depth = saved }
        while isPunct("*") || isPunct("/") || isPunct("%") {
            let f: BinaryOperator = isPunct("*") ? .multiply : (isPunct("/") ? .divide : .modulo)
            pos += 1
            try enter()
            let right = try parseUnary()
            left = try node(.binary(f, left, right))
        }
        return left
    }

    private mutating func parseUnary() throws -> Expr {
        if isPunct("!") {
            var count = 0
            let saved = depth
            defer { depth = saved }
            while accept("!") { count += 1; try enter() }
            var e = try parseMember()
            for _ in 0..<count { e = try node(.not(e)) }
            return e
        }
        if isPunct("-") {
            var count = 0
            let saved = depth
            defer { depth = saved }
            while accept("-") { count += 1; try enter() }
            var e: Expr
            // A minus directly before a number literal makes a negative constant, so that
            // -9223372036854775808 is expressible.
            if case .int(let text) = current.kind, !Self.startsMember(peekKind(1)) {
                pos += 1
                e = try node(.literal(.int(try Self.intLiteral("-" + text, parser: self))))
                count -= 1
            } else if case .double(let text) = current.kind, !Self.startsMember(peekKind(1)) {
                pos += 1
                e = try node(.literal(.double(-(Double(text) ?? .nan))))
                count -= 1
            } else {
                e = try parseMember()
            }
            for _ in 0..<count { e = try node(.negate(e)) }
            return e
        }
        return try parseMember()
    }

    private static func startsMember(_ kind: Token.Kind) -> Bool {
        if case .punct(let p) = kind { return p == "." || p == ".?" || p == "[" || p == "[?" }
        return false
    }

    static func intLiteral(_ text: String, parser: Parser) throws -> Int64 {
        var digits = Substring(text)
        let negative = digits.hasPrefix("-")
        if negative { digits = digits.dropFirst() }
        let value: Int64?
        if digits.hasPrefix("0x") {
            value = Int64((negative ? "-" : "") + digits.dropFirst(2), radix: 16)
        } else {
            value = Int64(text)
        }
        guard let v = value else { throw parser.fail("integer literal \(text) out of range") }
        return v
    }

    private mutating func parseMember() throws -> Expr {
        var e = try parsePrimary()
        let saved = depth
        defer { depth = saved }
        while true {
            try enter()
            if accept(".") || isPunct(".?") {
                let optional = accept(".?")
                let name: String
                var quoted = false
                switch current.kind {
                case .ident(let n): name = n
                case .quotedField(let n): name = n; quoted = true
                default: throw fail("expected a field name after '.'")
                }
                pos += 1
                if !optional, !quoted, accept("(") {
                    let args = try parseArguments(closing: ")")
                    e = try expandCall(function: name, target: e, args: args)
                } else {
                    e = try node(.select(e, field: name, optional: optional))
                }
            } else if isPunct("[") || isPunct("[?") {
                let optional = isPunct("[?")
                pos += 1
                let index = try parseExpr()
                try expect("]")
                e = try node(.index(e, index, optional: optional))
            } else if isPunct("{"), let name = Self.qualifiedName(e) {
                pos += 1
                e = try node(.message(typeName: name, fields: try parseEntries(fieldNames: true)))
            } else {
                return e
            }
        }
    }

    /// `a.b.c` as "a.b.c" when the expression is only identifiers and selections.
    static func qualifiedName(_ e: Expr) -> String? {
        switch e {
        case .ident(let n, let absolute): return absolute ? "." + n : n
        case .select(let operand, let field, false): return qualifiedName(operand).map { $0 + "." + field }
        default: return nil
        }
    }

    /// Arguments, list elements and entries are each parsed with parseExpr, which counts the nesting.
    private mutating func parseArguments(closing: String) throws -> [Expr] {
        var args: [Expr] = []
        if accept(closing) { return args }
        repeat {
            if isPunct(closing) { break }  // trailing comma
            args.append(try parseExpr())
        } while accept(",")
        try expect(closing)
        return args
    }

    private mutating func parseEntries(fieldNames: Bool) throws -> [MapEntry] {
        var entries: [MapEntry] = []
        if accept("}") { return entries }
        repeat {
            if isPunct("}") { break }
            let optional = accept("?")
            let key: Expr
            if fieldNames {
                guard case .ident(let name) = current.kind else { throw fail("expected a field name") }
                pos += 1
                key = .literal(.string(name))
            } else {
                key = try parseExpr()
            }
            try expect(":")
            entries.append(MapEntry(key: key, value: try parseExpr(), optional: optional))
        } while accept(",")
        try expect("}")
        return entries
    }

    private mutating func parsePrimary() throws -> Expr {
        let token = current
        switch token.kind {
        case .end:
            throw fail("unexpected end of input")
        case .quotedField(let name):
            throw fail("quoted name `\(name)` is only allowed after a dot")
        case .int(let text):
            pos += 1
            return try node(.literal(.int(try Self.intLiteral(text, parser: self))))
        case .uint(let text):
            pos += 1
            let v = text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
            guard let u = v else { throw fail("unsigned literal \(text) out of range") }
            return try node(.literal(.uint(u)))
        case .double(let text):
            pos += 1
            guard let d = Double(text) else { throw fail("malformed double literal \(text)") }
            return try node(.literal(.double(d)))
        case .string(let s):
            pos += 1
            return try node(.literal(.string(s)))
        case .bytes(let b):
            pos += 1
            return try node(.literal(.bytes(b)))
        case .ident(let name):
            pos += 1
            return try identifier(name, absolute: false)
        case .punct(let p):
            pos += 1
            switch p {
            case ".":
                guard case .ident(let name) = current.kind else { throw fail("expected an identifier after '.'") }
                pos += 1
                return try identifier(name, absolute: true)
            case "(":
                let e = try parseExpr()
                try expect(")")
                return e
            case "[", "[?":
                var elements: [ListElement] = []
                // The lexer reads `[?` as one token; at the start of a list it opens an optional element.
                var first = p == "[?"
                if first || !accept("]") {
                    repeat {
                        if !first, isPunct("]") { break }
                        let optional = first || accept("?")
                        first = false
                        elements.append(ListElement(value: try parseExpr(), optional: optional))
                    } while accept(",")
                    try expect("]")
                }
                return try node(.list(elements))
            case "{":
                return try node(.map(try parseEntries(fieldNames: false)))
            default:
                pos -= 1
                throw fail("unexpected \(describe(token))")
            }
        }
    }

    private mutating func identifier(_ name: String, absolute: Bool) throws -> Expr {
        switch name {
        case "true" where !absolute: return try node(.literal(.bool(true)))
        case "false" where !absolute: return try node(.literal(.bool(false)))
        case "null" where !absolute: return try node(.literal(.null))
        default: break
        }
        if Self.reserved.contains(name) || name == "in" { throw fail("reserved identifier '\(name)'") }
        if accept("(") {
            let args = try parseArguments(closing: ")")
            return try expandCall(function: absolute ? "." + name : name, target: nil, args: args)
        }
        return try node(.ident(name, absolute: absolute))
    }
}
