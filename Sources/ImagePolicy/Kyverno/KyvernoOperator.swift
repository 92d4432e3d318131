import Foundation

/// Kyverno condition operators (`api/kyverno/v1/common_types.go`), with wildcard matching
/// of string values as Kyverno does.
public enum KyvernoOperator: String, Sendable, CaseIterable {
    case equals = "Equals", equal = "Equal", notEquals = "NotEquals", notEqual = "NotEqual"
    case `in` = "In", anyIn = "AnyIn", allIn = "AllIn", notIn = "NotIn", anyNotIn = "AnyNotIn", allNotIn = "AllNotIn"
    case greaterThanOrEquals = "GreaterThanOrEquals", greaterThan = "GreaterThan"
    case lessThanOrEquals = "LessThanOrEquals", lessThan = "LessThan"
    case durationGreaterThanOrEquals = "DurationGreaterThanOrEquals", durationGreaterThan = "DurationGreaterThan"
    case durationLessThanOrEquals = "DurationLessThanOrEquals", durationLessThan = "DurationLessThan"

    static let crdNames = allCases.filter { $0 != .equal && $0 != .notEqual }.map(\.rawValue)

    public func evaluate(key: JSONValue, value: JSONValue) -> Bool {
        switch self {
        case .equals, .equal: return Self.equals(key, value)
        case .notEquals, .notEqual: return !Self.equals(key, value)
        case .in: return Self.keyIn(key, value, all: true)
        case .allIn: return Self.keyIn(key, value, all: true)
        case .anyIn: return Self.keyIn(key, value, all: false)
        case .notIn: return !Self.keyIn(key, value, all: false)
        case .allNotIn: return !Self.keyIn(key, value, all: false)
        case .anyNotIn: return !Self.keyIn(key, value, all: true)
        case .greaterThan: return Self.order(key, value).map { $0 > 0 } ?? false
        case .greaterThanOrEquals: return Self.order(key, value).map { $0 >= 0 } ?? false
        case .lessThan: return Self.order(key, value).map { $0 < 0 } ?? false
        case .lessThanOrEquals: return Self.order(key, value).map { $0 <= 0 } ?? false
        case .durationGreaterThan: return Self.durations(key, value).map { $0 > $1 } ?? false
        case .durationGreaterThanOrEquals: return Self.durations(key, value).map { $0 >= $1 } ?? false
        case .durationLessThan: return Self.durations(key, value).map { $0 < $1 } ?? false
        case .durationLessThanOrEquals: return Self.durations(key, value).map { $0 <= $1 } ?? false
        }
    }

    /// Equals: strings use the value as a wildcard pattern; numbers compare numerically
    /// (also against numeric strings); durations and quantities compare by magnitude.
    static func equals(_ key: JSONValue, _ value: JSONValue) -> Bool {
        switch (key, value) {
        case (.string(let k), .string(let v)):
            if let a = GoDuration.parse(k), let b = GoDuration.parse(v), k.contains(where: \.isLetter) { return a == b }
            if let a = Quantity.parse(k), let b = Quantity.parse(v), Double(k) == nil || Double(v) == nil { return a == b }
            return Wildcard.match(pattern: v, k)
        case (.number(let k), .number(let v)): return k == v
        case (.number(let k), .string(let v)): return Double(v) == k
        case (.string(let k), .number(let v)): return Double(k) == v
        case (.bool(let k), .bool(let v)): return k == v
        default: return key == value
        }
    }

    /// The value set of In-style operators: a list, or a string holding a JSON list, or a single value.
    static func valueSet(_ value: JSONValue) -> [JSONValue] {
        switch value {
        case .array(let a): return a
        case .string(let s):
            if s.hasPrefix("["), case .array(let a)? = try? JSONValue.parse(s) { return a }
            return [value]
        default: return [value]
        }
    }

    /// Kyverno stringifies both sides (fmt.Sprint) and matches wildcards in either direction.
    static func member(_ k: JSONValue, _ set: [JSONValue]) -> Bool {
        let ks = text(k)
        return set.contains { v in
            let vs = text(v)
            return Wildcard.match(pattern: vs, ks) || Wildcard.match(pattern: ks, vs)
        }
    }

    static func text(_ v: JSONValue) -> String {
        if case .string(let s) = v { return s }
        return v.jsonString
    }

    /// all=true: every key element is in the set; all=false: at least one is.
    static func keyIn(_ key: JSONValue, _ value: JSONValue, all: Bool) -> Bool {
        let set = valueSet(value)
        let keys: [JSONValue]
        if case .array(let a) = key { keys = a } else { keys = [key] }
        if keys.isEmpty { return all }
        return all ? keys.allSatisfy { member($0, set) } : keys.contains { member($0, set) }
    }

    /// Sign of key - value for numbers, numeric strings, quantities, durations or versions.
    static func order(_ key: JSONValue, _ value: JSONValue) -> Int? {
        func num(_ v: JSONValue) -> Double? {
            switch v {
            case .number(let n): return n
            case .string(let s): return Double(s)
            default: return nil
            }
        }
        if let a = num(key), let b = num(value) { return a == b ? 0 : (a < b ? -1 : 1) }
        guard case .string(let k) = key, case .string(let v) = value else { return nil }
        if let a = Quantity.parse(k), let b = Quantity.parse(v) { return a == b ? 0 : (a < b ? -1 : 1) }
        if let a = GoDuration.parse(k), let b = GoDuration.parse(v) { return a == b ? 0 : (a < b ? -1 : 1) }
        if let a = SemVer(k), let b = SemVer(v) { return a == b ? 0 : (a < b ? -1 : 1) }
        return nil
    }

    /// Duration operators accept Go durations or numbers of seconds.
    static func durations(_ key: JSONValue, _ value: JSONValue) -> (Double, Double)? {
        func d(_ v: JSONValue) -> Double? {
            switch v {
            case .number(let n): return n
            case .string(let s): return GoDuration.parse(s) ?? Double(s)
            default: return nil
            }
        }
        guard let a = d(key), let b = d(value) else { return nil }
        return (a, b)
    }
}

/// Kubernetes resource quantities (`100Mi`, `1.5G`, `500m`).
enum Quantity {
    static let suffixes: [(String, Double)] = [
        ("Ki", 1024), ("Mi", 1048576), ("Gi", 1073741824), ("Ti", 1099511627776), ("Pi", 1125899906842624), ("Ei", 1152921504606846976),
        ("n", 1e-9), ("u", 1e-6), ("m", 1e-3), ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("P", 1e15), ("E", 1e18),
    ]
    static func parse(_ s: String) -> Double? {
        for (suffix, factor) in suffixes where s.hasSuffix(suffix) {
            if let n = Double(s.dropLast(suffix.count)) { return n * factor }
        }
        return Double(s)
    }
}

/// Minimal semantic version for ordering (`1.2.3`, optional leading `v`).
struct SemVer: Comparable {
    let parts: [Int]
    init?(_ s: String) {
        let t = s.hasPrefix("v") ? s.dropFirst() : s[...]
        let core = t.split(separator: "-").first ?? ""
        let p = core.split(separator: ".").map { Int($0) }
        guard p.count == 3, p.allSatisfy({ $0 != nil }) else { return nil }
        parts = p.map { $0! }
    }
    static func < (a: SemVer, b: SemVer) -> Bool { a.parts.lexicographicallyPrecedes(b.parts) }
}
