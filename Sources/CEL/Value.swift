/// A CEL value. Variables are supplied as these, and evaluation returns one.
public enum CELValue: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case list([CELValue])
    case map(CELMap)
    case timestamp(CELTimestamp)
    case duration(CELDuration)
    case type(CELType)
    /// `optional.of(v)` is `.optional(v)`, `optional.none()` is `.optional(nil)`.
    indirect case optional(CELValue?)
    /// A value of a type defined outside CEL's core (net.IP, net.CIDR, or one the embedder registers).
    case opaque(any CELOpaqueValue)

    var isContainer: Bool {
        switch self {
        case .list, .map, .optional: return true
        default: return false
        }
    }

    public var type: CELType {
        switch self {
        case .null: return .null
        case .bool: return .bool
        case .int: return .int
        case .uint: return .uint
        case .double: return .double
        case .string: return .string
        case .bytes: return .bytes
        case .list: return .list
        case .map: return .map
        case .timestamp: return .timestamp
        case .duration: return .duration
        case .type: return .type
        case .optional: return .optional
        case .opaque(let o): return o.celType
        }
    }
}

/// A value of an extension type: its type, its equality and its text (what string() returns).
public protocol CELOpaqueValue: Sendable, CustomStringConvertible {
    var celType: CELType { get }
    func isEqual(to other: any CELOpaqueValue) -> Bool
}

/// A CEL type value, e.g. what `type(1)` returns (`int`). Compared by name.
public struct CELType: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public init(_ name: String) { self.name = name }
    public var description: String { name }

    public static let null = CELType("null_type")
    public static let bool = CELType("bool")
    public static let int = CELType("int")
    public static let uint = CELType("uint")
    public static let double = CELType("double")
    public static let string = CELType("string")
    public static let bytes = CELType("bytes")
    public static let list = CELType("list")
    public static let map = CELType("map")
    public static let timestamp = CELType("google.protobuf.Timestamp")
    public static let duration = CELType("google.protobuf.Duration")
    public static let type = CELType("type")
    public static let optional = CELType("optional_type")
    public static let ip = CELType("net.IP")
    public static let cidr = CELType("net.CIDR")

    /// The type names an expression can mention as identifiers.
    static let named: [String: CELType] = Dictionary(uniqueKeysWithValues: [
        null, bool, int, uint, double, string, bytes, list, map, timestamp, duration, type, optional, ip, cidr,
    ].map { ($0.name, $0) })
}

/// Seconds and nanoseconds since the Unix epoch, in CEL's range 0001-01-01 to 9999-12-31.
public struct CELTimestamp: Sendable, Hashable, Comparable {
    public let seconds: Int64
    public let nanos: Int32  // 0 ..< 1e9

    public static let minSeconds: Int64 = -62_135_596_800   // 0001-01-01T00:00:00Z
    public static let maxSeconds: Int64 = 253_402_300_799   // 9999-12-31T23:59:59Z

    /// nil when outside CEL's range.
    public init?(seconds: Int64, nanos: Int64 = 0) {
        var s = seconds
        var n = nanos
        let carry = n / 1_000_000_000
        s = s.addingReportingOverflow(carry).overflow ? Int64.max : s + carry
        n -= carry * 1_000_000_000
        if n < 0 { n += 1_000_000_000; s = s == Int64.min ? s : s - 1 }
        guard s >= Self.minSeconds, s <= Self.maxSeconds else { return nil }
        self.seconds = s
        self.nanos = Int32(n)
    }

    public static func < (a: Self, b: Self) -> Bool { (a.seconds, a.nanos) < (b.seconds, b.nanos) }
}

/// A signed duration in nanoseconds (the int64 range, as cel-go's).
public struct CELDuration: Sendable, Hashable, Comparable {
    public let nanoseconds: Int64
    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    public static func < (a: Self, b: Self) -> Bool { a.nanoseconds < b.nanoseconds }
}

/// An evaluation or compilation error. Ordinary errors are values that `||`, `&&`, `?:` and the
/// comprehension macros may absorb; limit errors (cost, sizes) are never absorbed.
public struct CELError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable { case syntax, evaluation, limit }
    public let kind: Kind
    public let message: String
    public init(_ kind: Kind, _ message: String) { self.kind = kind; self.message = message }
    public var description: String { message }

    static func syntax(_ m: String) -> CELError { CELError(.syntax, "syntax error: " + m) }
    static func eval(_ m: String) -> CELError { CELError(.evaluation, m) }
    static func limit(_ m: String) -> CELError { CELError(.limit, m) }

    static func noOverload(_ function: String, _ args: [CELValue]) -> CELError {
        eval("no matching overload for '\(function)' applied to (\(args.map { $0.type.name }.joined(separator: ", ")))")
    }
    static let overflow = eval("integer overflow")
}
