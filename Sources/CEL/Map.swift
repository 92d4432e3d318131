/// A CEL map: insertion-ordered entries with an index by key. Keys are int, uint, bool or string;
/// numerically equal int/uint keys (and integral double lookups) find the same entry, as in cel-go.
public struct CELMap: Sendable {
    public private(set) var entries: [(key: CELValue, value: CELValue)] = []
    private var index: [Key: Int] = [:]

    enum Key: Hashable, Sendable {
        case int(Int64), bigUint(UInt64), bool(Bool), string(ExactString)

        /// nil: the value cannot be a map key.
        init?(_ v: CELValue) {
            switch v {
            case .int(let i): self = .int(i)
            case .uint(let u): self = u <= UInt64(Int64.max) ? .int(Int64(u)) : .bigUint(u)
            case .bool(let b): self = .bool(b)
            case .string(let s): self = .string(ExactString(s))
            default: return nil
            }
        }

        /// Lookups may also use an integral double.
        init?(lookup v: CELValue) {
            if case .double(let d) = v {
                if d.rounded() == d, d >= -9.2e18, d <= 9.2e18 { self = .int(Int64(d)); return }
                if d.rounded() == d, d >= 0, d < 1.8e19 { self = .bigUint(UInt64(d)); return }
                return nil
            }
            self.init(v)
        }
    }

    public init() {}

    /// A string compared and hashed by its UTF-8 bytes: CEL strings are code-point sequences, and
    /// Swift's String equality would merge canonically equivalent keys ("é" and "e\u{301}").
    struct ExactString: Hashable, Sendable {
        let text: String
        init(_ text: String) { self.text = text }

        static func == (a: Self, b: Self) -> Bool { a.text.utf8.elementsEqual(b.text.utf8) }

        func hash(into hasher: inout Hasher) {
            let done: Void? = text.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
            if done == nil { Array(text.utf8).withUnsafeBytes { hasher.combine(bytes: $0) } }  // the same bytes, the same hash
        }
    }

    /// Builds a map; throws on a repeated key or a key of an unsupported type.
    public init(_ pairs: [(CELValue, CELValue)]) throws {
        for (k, v) in pairs { try insertNew(k, v) }
    }

    public var count: Int { entries.count }
    public var keys: [CELValue] { entries.map(\.key) }

    public func value(for key: CELValue) -> CELValue? {
        guard let k = Key(lookup: key), let i = index[k] else { return nil }
        return entries[i].value
    }

    public mutating func insertNew(_ key: CELValue, _ value: CELValue) throws {
        guard let k = Key(key) else { throw CELError.eval("unsupported key type \(key.type.name)") }
        if index[k] != nil { throw CELError.eval("Failed with repeated key") }
        index[k] = entries.count
        entries.append((key, value))
    }
}
