/// The standard functions other than operators and conversions: size, the string predicates,
/// matches, and the timestamp/duration accessors.
enum CoreFunctions {
    static var functions: [CELFunction] {
        var f: [CELFunction] = []
        f += CELFunction.both("size", arity: 1) { call in
            switch call.args[0] {
            case .string(let s): return .int(Int64(s.unicodeScalars.count))
            case .bytes(let b): return .int(Int64(b.count))
            case .list(let l): return .int(Int64(l.count))
            case .map(let m): return .int(Int64(m.count))
            default: return nil
            }
        }
        // On UTF-8 bytes: for valid UTF-8 a byte match is a code-point match, and no copy is made.
        f.append(stringPredicate("contains") { UTF8Search.contains($1, $0) })
        f.append(stringPredicate("startsWith") { $1.utf8.starts(with: $0.utf8) })
        f.append(stringPredicate("endsWith") { $1.utf8.reversed().starts(with: $0.utf8.reversed()) })
        f += CELFunction.both("matches", arity: 2) { call in
            guard case .string(let s) = call.args[0], case .string(let pattern) = call.args[1] else { return nil }
            return .bool(try RegexCache.shared.program(pattern).matches(s, charge: call.charge))
        }
        f += timestampAccessors
        return f
    }

    /// A receiver function (string, string) -> bool; the closure gets (needle, haystack).
    private static func stringPredicate(_ name: String, _ test: @escaping @Sendable (String, String) -> Bool) -> CELFunction {
        CELFunction(name, receiver: true, arity: 2) { call in
            guard case .string(let s) = call.args[0], case .string(let needle) = call.args[1] else { return nil }
            return .bool(test(needle, s))
        }
    }

    private static let accessors: [(String, @Sendable (TimeMath.Fields) -> Int64)] = [
        ("getFullYear", { $0.year }), ("getMonth", { $0.month - 1 }), ("getDate", { $0.day }),
        ("getDayOfMonth", { $0.day - 1 }), ("getDayOfWeek", { $0.dayOfWeek }), ("getDayOfYear", { $0.dayOfYear }),
        ("getHours", { $0.hour }), ("getMinutes", { $0.minute }), ("getSeconds", { $0.second }),
    ]

    private static var timestampAccessors: [CELFunction] {
        var f: [CELFunction] = []
        for (name, field) in accessors {
            for arity in [1, 2] {
                f.append(CELFunction(name, receiver: true, arity: arity) { call in
                    guard case .timestamp(let t) = call.args[0] else { return nil }
                    var zone: String?
                    if arity == 2 {
                        guard case .string(let z) = call.args[1] else { return nil }
                        zone = z
                    }
                    return .int(field(try TimeMath.fields(t, zone: zone)))
                })
            }
        }
        f.append(CELFunction("getMilliseconds", receiver: true, arity: 1) { call in
            switch call.args[0] {
            case .timestamp(let t): return .int(Int64(t.nanos / 1_000_000))
            case .duration(let d): return .int(d.nanoseconds / 1_000_000 % 1000)
            default: return nil
            }
        })
        f.append(CELFunction("getMilliseconds", receiver: true, arity: 2) { call in
            guard case .timestamp(let t) = call.args[0], case .string = call.args[1] else { return nil }
            return .int(Int64(t.nanos / 1_000_000))
        })
        // Durations: whole hours, minutes, seconds in total.
        for (name, unit) in [("getHours", Int64(3_600_000_000_000)), ("getMinutes", 60_000_000_000), ("getSeconds", 1_000_000_000)] {
            f.append(CELFunction(name, receiver: true, arity: 1) { call in
                guard case .duration(let d) = call.args[0] else { return nil }
                return .int(d.nanoseconds / unit)
            })
        }
        return f
    }
}

enum UTF8Search {
    static func contains(_ hay: String, _ needle: String) -> Bool {
        if needle.isEmpty { return true }
        var h = hay, n = needle
        h.makeContiguousUTF8()
        n.makeContiguousUTF8()
        return h.utf8.withContiguousStorageIfAvailable { hb in
            n.utf8.withContiguousStorageIfAvailable { nb in find(nb, in: hb) } ?? false
        } ?? false
    }

    private static func find(_ needle: UnsafeBufferPointer<UInt8>, in hay: UnsafeBufferPointer<UInt8>) -> Bool {
        guard needle.count <= hay.count, let first = needle.first else { return needle.isEmpty }
        var i = 0
        let last = hay.count - needle.count
        while i <= last {
            if hay[i] == first {
                var j = 1
                while j < needle.count, hay[i + j] == needle[j] { j += 1 }
                if j == needle.count { return true }
            }
            i += 1
        }
        return false
    }
}

enum StandardLibrary {
    static let functions: [CELFunction] = Conversions.functions + CoreFunctions.functions + StringsExtension.functions
        + ListsExtension.functions + MathExtension.functions + EncodersExtension.functions + OptionalsExtension.functions
        + NetworkExtension.functions
}
