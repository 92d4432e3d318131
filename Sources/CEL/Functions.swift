/// Functions callable from expressions: the standard library, the extensions, and whatever the
/// embedding code registers. One name can have several overloads, told apart by call style and arity;
/// an implementation returns nil when the argument types are not its own, and the next is tried.
public struct CELFunction: Sendable {
    public typealias Implementation = @Sendable (CELCall) throws -> CELValue?

    public let name: String
    /// true for `target.name(args)`, where the target is `args[0]`.
    public let receiver: Bool
    /// The number of arguments including a receiver; nil for any number.
    public let arity: Int?
    public let implementation: Implementation

    public init(_ name: String, receiver: Bool = false, arity: Int?, _ implementation: @escaping Implementation) {
        self.name = name
        self.receiver = receiver
        self.arity = arity
        self.implementation = implementation
    }

    /// The same implementation callable both as `name(x, ...)` and `x.name(...)`.
    static func both(_ name: String, arity: Int?, _ implementation: @escaping Implementation) -> [CELFunction] {
        [CELFunction(name, receiver: false, arity: arity, implementation), CELFunction(name, receiver: true, arity: arity, implementation)]
    }
}

/// The arguments of one call, the limits a function must respect when it builds large values, and
/// the evaluation's cost budget for a function whose work is not proportional to its arguments' sizes.
public struct CELCall: Sendable {
    public let function: String
    public let args: [CELValue]
    public let limits: CELLimits
    public let budget: CELCostBudget

    public func charge(_ cost: Int) throws { try budget.charge(cost) }

    /// The error to throw for argument types a function does not take.
    public var noOverload: CELError { CELError.noOverload(function, args) }
}

/// The running cost of one evaluation. Each evaluation has its own and runs on one thread at a time.
public final class CELCostBudget: @unchecked Sendable {
    public let limit: Int
    public private(set) var spent = 0

    init(limit: Int) { self.limit = limit }

    public var remaining: Int { limit - spent }

    public func charge(_ cost: Int) throws {
        spent += max(cost, 0)
        if spent > limit { throw CELError.limit("cost limit \(limit) exceeded") }
    }
}

/// Caps on values built at runtime.
public struct CELLimits: Sendable {
    public var maxStringSize: Int
    public var maxListSize: Int
    public init(maxStringSize: Int = 1 << 20, maxListSize: Int = 100_000) {
        self.maxStringSize = maxStringSize
        self.maxListSize = maxListSize
    }

    func checkString(_ bytes: Int) throws {
        if bytes > maxStringSize { throw CELError.limit("string of \(bytes) bytes exceeds the limit of \(maxStringSize)") }
    }

    func checkList(_ count: Int) throws {
        if count > maxListSize { throw CELError.limit("list of \(count) elements exceeds the limit of \(maxListSize)") }
    }
}

struct FunctionTable: Sendable {
    private var table: [String: [CELFunction]] = [:]
    /// Last segments of namespaced global functions ("greatest" for math.greatest): a receiver call
    /// with another name is never a namespaced call.
    private(set) var namespaces: Set<String> = []

    init(_ functions: [CELFunction]) {
        for f in functions { table[f.name, default: []].append(f); note(f) }
    }

    mutating func add(_ functions: [CELFunction]) {
        // Later registrations come first, so embedding code can override a builtin overload.
        for f in functions { table[f.name, default: []].insert(f, at: 0); note(f) }
    }

    private mutating func note(_ f: CELFunction) {
        if !f.receiver, let dot = f.name.lastIndex(of: ".") { namespaces.insert(String(f.name[f.name.index(after: dot)...])) }
    }

    func hasGlobal(_ name: String) -> Bool {
        table[name]?.contains { !$0.receiver } ?? false
    }

    func call(_ name: String, receiver: Bool, _ args: [CELValue], limits: CELLimits, budget: CELCostBudget) throws -> CELValue {
        guard let overloads = table[name] else {
            throw CELError.eval("no such function: \(name)")
        }
        let call = CELCall(function: name, args: args, limits: limits, budget: budget)
        for f in overloads where f.receiver == receiver && (f.arity == nil || f.arity == args.count) {
            if let result = try f.implementation(call) { return result }
        }
        throw call.noOverload
    }
}
