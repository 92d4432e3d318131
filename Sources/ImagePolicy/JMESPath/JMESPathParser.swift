/// JMESPath AST.
indirect enum JMESNode: Sendable {
    case identity                                  // the implicit current node of a projection
    case current                                   // @
    case field(String)
    case literal(JSONValue)
    case subexpression(JMESNode, JMESNode)
    case index(Int)
    case slice(Int?, Int?, Int?)
    case indexExpression(JMESNode, JMESNode)       // left, index/slice
    case projection(JMESNode, JMESNode)            // list projection
    case valueProjection(JMESNode, JMESNode)       // object values projection
    case filterProjection(JMESNode, JMESNode, JMESNode) // left, right, condition
    case flatten(JMESNode)
    case pipe(JMESNode, JMESNode)
    case or(JMESNode, JMESNode)
    case and(JMESNode, JMESNode)
    case not(JMESNode)
    case comparator(JMESToken, JMESNode, JMESNode)
    case multiSelectList([JMESNode])
    case multiSelectHash([(String, JMESNode)])
    case function(String, [JMESNode])
    case expref(JMESNode)
}

/// Pratt parser following the JMESPath specification's precedence.
struct JMESParser {
    var tokens: [(JMESToken, Int)]
    var pos = 0
    let functions: JMESFunctionTable

    static let projectionStop = 10

    init(_ text: String, functions: JMESFunctionTable) throws(JMESPathError) {
        tokens = try JMESLexer.tokenize(text)
        self.functions = functions
    }

    var current: JMESToken { tokens[pos].0 }
    func lookahead(_ n: Int) -> JMESToken { pos + n < tokens.count ? tokens[pos + n].0 : .eof }
    mutating func advance() { if pos < tokens.count - 1 { pos += 1 } }

    func err(_ msg: String) -> JMESPathError {
        JMESPathError(kind: .syntax, message: "\(msg) at position \(tokens[pos].1)")
    }

    mutating func expect(_ t: JMESToken) throws(JMESPathError) {
        guard current == t else { throw err("expected \(t), got \(current)") }
        advance()
    }

    mutating func parse() throws(JMESPathError) -> JMESNode {
        if current == .eof { throw err("empty expression") }
        let node = try expression(0)
        guard current == .eof else { throw err("unexpected token \(current)") }
        return node
    }

    mutating func expression(_ bp: Int) throws(JMESPathError) -> JMESNode {
        let tok = current
        advance()
        var left = try nud(tok)
        while bp < current.bindingPower {
            let t = current
            advance()
            left = try led(t, left)
        }
        return left
    }

    mutating func nud(_ tok: JMESToken) throws(JMESPathError) -> JMESNode {
        switch tok {
        case .literal(let v): return .literal(v)
        case .rawString(let s): return .literal(.string(s))
        case .identifier(let s): return .field(s)
        case .quotedIdentifier(let s):
            if current == .lparen { throw err("quoted identifier not allowed for function names") }
            return .field(s)
        case .star:
            return .valueProjection(.identity, try projectionRHS(JMESToken.star.bindingPower))
        case .filter:
            return try filter(left: .identity)
        case .lbrace:
            return try multiSelectHash()
        case .lparen:
            let e = try expression(0)
            try expect(.rparen)
            return e
        case .flatten:
            return .projection(.flatten(.identity), try projectionRHS(JMESToken.flatten.bindingPower))
        case .not:
            return .not(try expression(JMESToken.not.bindingPower))
        case .lbracket:
            if case .number = current { return try projectIfSlice(.identity, try indexExpression()) }
            if current == .colon { return try projectIfSlice(.identity, try indexExpression()) }
            if current == .star, lookahead(1) == .rbracket {
                advance(); advance()
                return .projection(.identity, try projectionRHS(JMESToken.star.bindingPower))
            }
            return try multiSelectList()
        case .current: return .current
        case .expref: return .expref(try expression(0))
        case .eof: throw err("unexpected end of expression")
        default: throw err("unexpected token \(tok)")
        }
    }

    mutating func led(_ tok: JMESToken, _ left: JMESNode) throws(JMESPathError) -> JMESNode {
        switch tok {
        case .dot:
            if current == .star {
                advance()
                return .valueProjection(left, try projectionRHS(JMESToken.dot.bindingPower))
            }
            return .subexpression(left, try dotRHS(JMESToken.dot.bindingPower))
        case .pipe: return .pipe(left, try expression(JMESToken.pipe.bindingPower))
        case .or: return .or(left, try expression(JMESToken.or.bindingPower))
        case .and: return .and(left, try expression(JMESToken.and.bindingPower))
        case .eq, .ne, .lt, .lte, .gt, .gte:
            return .comparator(tok, left, try expression(tok.bindingPower))
        case .lparen:
            guard case .field(let name) = left else { throw err("invalid function call") }
            var args: [JMESNode] = []
            while current != .rparen {
                args.append(try expression(0))
                if current == .comma {
                    advance()
                    if current == .rparen { throw err("trailing comma in function arguments") }
                } else if current != .rparen {
                    throw err("expected ',' or ')' in function arguments")
                }
            }
            advance()
            try functions.checkArity(name, args.count)
            return .function(name, args)
        case .filter: return try filter(left: left)
        case .flatten:
            return .projection(.flatten(left), try projectionRHS(JMESToken.flatten.bindingPower))
        case .lbracket:
            if case .number = current { return try projectIfSlice(left, try indexExpression()) }
            if current == .colon { return try projectIfSlice(left, try indexExpression()) }
            try expect(.star)
            try expect(.rbracket)
            return .projection(left, try projectionRHS(JMESToken.star.bindingPower))
        default: throw err("unexpected token \(tok)")
        }
    }

    mutating func filter(left: JMESNode) throws(JMESPathError) -> JMESNode {
        let condition = try expression(0)
        try expect(.rbracket)
        let right: JMESNode = current == .flatten ? .identity : try projectionRHS(JMESToken.filter.bindingPower)
        return .filterProjection(left, right, condition)
    }

    /// After `[`: an index `[n]` or a slice `[a:b:c]`; consumes the closing `]`.
    mutating func indexExpression() throws(JMESPathError) -> JMESNode {
        if lookahead(0) == .colon || lookahead(1) == .colon {
            var parts: [Int?] = [nil, nil, nil]
            var idx = 0
            while current != .rbracket {
                switch current {
                case .colon:
                    idx += 1
                    if idx > 2 { throw err("too many colons in slice") }
                    advance()
                case .number(let n):
                    parts[idx] = n
                    advance()
                default: throw err("expected number or ':' in slice, got \(current)")
                }
            }
            advance()
            if parts[2] == 0 { throw JMESPathError(kind: .invalidValue, message: "slice step cannot be 0") }
            return .slice(parts[0], parts[1], parts[2])
        }
        guard case .number(let n) = current else { throw err("expected index") }
        advance()
        try expect(.rbracket)
        return .index(n)
    }

    mutating func projectIfSlice(_ left: JMESNode, _ right: JMESNode) throws(JMESPathError) -> JMESNode {
        let ie = JMESNode.indexExpression(left, right)
        if case .slice = right { return .projection(ie, try projectionRHS(JMESToken.star.bindingPower)) }
        return ie
    }

    mutating func projectionRHS(_ bp: Int) throws(JMESPathError) -> JMESNode {
        if current.bindingPower < Self.projectionStop { return .identity }
        switch current {
        case .lbracket, .filter: return try expression(bp)
        case .dot:
            advance()
            return try dotRHS(bp)
        default: throw err("syntax error after projection: unexpected \(current)")
        }
    }

    mutating func dotRHS(_ bp: Int) throws(JMESPathError) -> JMESNode {
        switch current {
        case .identifier, .quotedIdentifier, .star: return try expression(bp)
        case .lbracket:
            advance()
            return try multiSelectList()
        case .lbrace:
            advance()
            return try multiSelectHash()
        default: throw err("expected identifier, '*', '[' or '{' after '.', got \(current)")
        }
    }

    mutating func multiSelectList() throws(JMESPathError) -> JMESNode {
        var items: [JMESNode] = []
        repeat {
            if current == .rbracket && items.isEmpty { throw err("empty multi-select list") }
            items.append(try expression(0))
            if current == .comma { advance(); continue }
            try expect(.rbracket)
            return .multiSelectList(items)
        } while true
    }

    mutating func multiSelectHash() throws(JMESPathError) -> JMESNode {
        var pairs: [(String, JMESNode)] = []
        while true {
            let key: String
            switch current {
            case .identifier(let s), .quotedIdentifier(let s): key = s
            default: throw err("expected key name in multi-select hash, got \(current)")
            }
            advance()
            try expect(.colon)
            pairs.append((key, try expression(0)))
            if current == .comma { advance(); continue }
            try expect(.rbrace)
            return .multiSelectHash(pairs)
        }
    }
}
