/// A JSON document as TUF needs it: integers kept exact (signatures cover their decimal form), objects keeping
/// their document order (the first listed hash names consistent-snapshot targets), floats kept apart so canonical
/// encoding can refuse them as securesystemslib does.
public indirect enum TUFJSON: Equatable, Sendable {
    case null
    case bool(Bool)
    /// An integer literal that fits 64 bits.
    case int(Int64)
    /// Any other number, as written: an integer too large for 64 bits, or one with a fraction or exponent.
    case number(String)
    case string(String)
    case array([TUFJSON])
    case object(JSONObject)
}

/// Object members in document order plus a lookup table keyed by the exact UTF-8 bytes of the name (Swift's
/// String equality would merge "é" and "e\u{301}", which JSON, Python and the signer keep apart). Duplicate
/// names are refused at parse time: two readers could otherwise disagree on which value a signature covered.
public struct JSONObject: Equatable, Sendable {
    private struct Name: Hashable, Sendable { let bytes: [UInt8] }

    public private(set) var keys: [String] = []
    private var members: [Name: TUFJSON] = [:]

    public init() {}

    public init(_ pairs: [(String, TUFJSON)]) {
        for (k, v) in pairs { self[k] = v }
    }

    public subscript(key: String) -> TUFJSON? {
        get { members[Name(bytes: Array(key.utf8))] }
        set {
            let name = Name(bytes: Array(key.utf8))
            if let newValue {
                if members.updateValue(newValue, forKey: name) == nil { keys.append(key) }
            } else if members.removeValue(forKey: name) != nil {
                keys.removeAll { Array($0.utf8) == name.bytes }
            }
        }
    }

    public var count: Int { keys.count }
    public var pairs: [(String, TUFJSON)] { keys.map { ($0, self[$0]!) } }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.members == b.members
    }
}

public extension TUFJSON {
    var objectValue: JSONObject? { if case .object(let o) = self { o } else { nil } }
    var arrayValue: [TUFJSON]? { if case .array(let a) = self { a } else { nil } }
    var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    var intValue: Int? { if case .int(let i) = self { Int(exactly: i) } else { nil } }
}
