import Foundation

/// Limits and environment for compiling and evaluating an expression.
public struct CELOptions: Sendable {
    /// Longest accepted source, in UTF-8 bytes.
    public var maxSourceSize = 100_000
    /// Deepest accepted nesting of the expression.
    public var maxDepth = 250
    /// Most syntax-tree nodes accepted.
    public var maxNodes = 20_000
    /// Budget of evaluation steps (each node evaluated, each comprehension iteration, and per size of values built).
    public var costLimit = 1_000_000
    public var maxStringSize = 1 << 20
    public var maxListSize = 100_000
    /// The namespace names are resolved in, e.g. "a.b" lets `x` mean `a.b.x`, `a.x` or `x`.
    public var container = ""
    /// Functions added by the embedding code; they take precedence over builtins of the same name.
    public var functions: [CELFunction] = []
    /// Names of the embedder's CELOpaqueValue types, so expressions can write `type(x) == my.Type`.
    public var types: [CELType] = []

    public init() {}

    var limits: CELLimits { CELLimits(maxStringSize: maxStringSize, maxListSize: maxListSize) }
}

/// A compiled expression: parse once, evaluate many times, from any thread.
public struct CELProgram: Sendable {
    public let source: String
    public let options: CELOptions
    let root: Expr
    let functions: FunctionTable

    public init(compiling source: String, _ options: CELOptions = CELOptions()) throws {
        let size = source.utf8.count
        if size > options.maxSourceSize {
            throw CELError.limit("expression of \(size) bytes exceeds the limit of \(options.maxSourceSize)")
        }
        var parser = try Parser(source, maxDepth: options.maxDepth, maxNodes: options.maxNodes)
        root = try parser.parseAll()
        self.source = source
        self.options = options
        var table = FunctionTable(StandardLibrary.functions)
        table.add(options.functions)
        functions = table
    }

    /// Evaluates with the given variables; throws a CELError when evaluation yields an error.
    public func evaluate(_ variables: [String: CELValue] = [:]) throws -> CELValue {
        let evaluator = Evaluator(variables: variables, functions: functions, options: options)
        return try evaluator.eval(root, nil)
    }

    /// Evaluates with `extra` functions for this evaluation only (taking precedence, as `CELOptions.functions` do),
    /// so one compiled program serves calls whose functions close over per-request state.
    public func evaluate(_ variables: [String: CELValue], adding extra: [CELFunction]) throws -> CELValue {
        var table = functions
        table.add(extra)
        return try Evaluator(variables: variables, functions: table, options: options).eval(root, nil)
    }
}
