import Foundation
import ImageReference

/// More of Kyverno's JMESPath functions (kyverno pkg/engine/jmespath functions.go, time.go), with its semantics:
/// time values are RFC 3339 strings and durations Go durations; `semver_compare(version, range)`; YAML/JSON parsing.
/// `x509_decode` is in KyvernoX509Decode. Not provided (an unknown function at load): `random` (a string generated
/// from a regular expression).
enum KyvernoMoreFunctions {
    typealias F = JMESFunctionTable.Function
    typealias A = JMESArgs

    static func fnError(_ fn: String, _ message: String) -> JMESPathError {
        JMESPathError(kind: .invalidValue, message: "JMESPath function '\(fn)': \(message)")
    }

    static func time(_ fn: String, _ a: [JMESArg], _ i: Int) throws(JMESPathError) -> GoTime {
        let s = try A.string(fn, a, i)
        guard let t = GoTime.rfc3339(s) else { throw fnError(fn, "cannot parse \"\(s)\" as RFC 3339") }
        return t
    }

    static func duration(_ fn: String, _ a: [JMESArg], _ i: Int) throws(JMESPathError) -> Double {
        let s = try A.string(fn, a, i)
        guard let d = GoDuration.parse(s) else { throw fnError(fn, "invalid duration \"\(s)\"") }
        return d
    }

    static func layoutTime(_ fn: String, _ layout: String, _ value: String) throws(JMESPathError) -> GoTime {
        do { return try GoTime.parse(layout: layout.isEmpty ? GoTime.rfc3339Layout : layout, value) } catch {
            throw fnError(fn, error.description)
        }
    }

    static func integer(_ fn: String, _ x: Double) throws(JMESPathError) -> Int {
        guard x == x.rounded(), abs(x) < 9e15 else { throw fnError(fn, "Non-integer argument(s) passed") }
        return Int(x)
    }

    static let all: [String: F] = [
        "pattern_match": F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            .bool(Wildcard.match(pattern: try A.string("pattern_match", a, 0), try KyvernoFunctions.stringish("pattern_match", a, 1)))
        },
        "to_boolean": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in
            let s = try A.string("to_boolean", a, 0)
            switch s.lowercased() {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: throw fnError("to_boolean", "lowercase argument must be 'true' or 'false' (provided: '\(s)')")
            }
        },
        "split": F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            let s = try A.string("split", a, 0), sep = try A.string("split", a, 1)
            // Go's strings.Split: an empty separator splits after each character.
            if sep.isEmpty { return .array(s.unicodeScalars.map { .string(String($0)) }) }
            return .array(s.components(separatedBy: sep).map { .string($0) })
        },
        "truncate": F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            let s = try A.string("truncate", a, 0)
            let n = max(0, Int(try A.number("truncate", a, 1)))
            var scalars = String.UnicodeScalarView()
            scalars.append(contentsOf: s.unicodeScalars.prefix(n))
            return .string(String(scalars))
        },
        "modulo": F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            let x = try integer("modulo", try A.number("modulo", a, 0)), y = try integer("modulo", try A.number("modulo", a, 1))
            guard y != 0 else { throw fnError("modulo", "Zero divisor passed") }
            return .number(Double(x % y))
        },
        "sum": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in
            let items = try A.numbers("sum", a, 0)
            guard !items.isEmpty else { throw fnError("sum", "at least one element in the array is required") }
            return .number(items.reduce(0, +))
        },
        "round": F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            let x = try A.number("round", a, 0)
            let places = try integer("round", try A.number("round", a, 1))
            guard places >= 0 else { throw fnError("round", "argument out of bounds (must be non-negative)") }
            let shift = pow(10, Double(places))
            return .number((x * shift).rounded(.toNearestOrAwayFromZero) / shift)
        },
        "path_canonicalize": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in
            .string(PathClean.clean(try A.string("path_canonicalize", a, 0)))
        },
        "semver_compare": F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            // Kyverno ignores an unparsable version (it compares as 0.0.0); an invalid range is an error.
            let v = try A.string("semver_compare", a, 0), range = try A.string("semver_compare", a, 1)
            let version = (try? Semver(v)) ?? Semver(major: 0, minor: 0, patch: 0)
            do throws(Semver.Failure) { return .bool(try Semver.satisfies(version, range: range)) } catch {
                throw fnError("semver_compare", error.description)
            }
        },
        "parse_yaml": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in
            let docs: [JSONValue?]
            do { docs = try YAMLDocuments.parse(try A.string("parse_yaml", a, 0)) } catch {
                throw fnError("parse_yaml", "\(error)")
            }
            return (docs.first ?? nil) ?? .null
        },
        "x509_decode": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in
            do { return try KyvernoX509Decode.decode(try A.string("x509_decode", a, 0)) } catch let e as JMESPathError { throw e } catch {
                throw fnError("x509_decode", "invalid certificate: \(error)")
            }
        },
        "object_from_lists": F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            let keys = try A.array("object_from_lists", a, 0), values = try A.array("object_from_lists", a, 1)
            var out: [String: JSONValue] = [:]
            for (i, k) in keys.enumerated() {
                let key: String
                switch k {
                case .string(let s): key = s
                case .number(let n): key = JSONValue.format(n)
                case .bool(let b): key = String(b)
                default: throw fnError("object_from_lists", "1 argument is expected of StringArray type")
                }
                out[key] = i < values.count ? values[i] : .null
            }
            return .object(out)
        },
        "image_normalize": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in
            let s = try A.string("image_normalize", a, 0)
            do { return .string(try ImageRef(parsing: s).kyvernoMatchString) } catch {
                throw fnError("image_normalize", "bad image: \(s): \(error)")
            }
        },
        "time_now": F(minArgs: 0, maxArgs: 0) { _, _ throws(JMESPathError) in
            .string(GoTime(date: Date(), offset: TimeZone.current.secondsFromGMT()).rfc3339)
        },
        "time_now_utc": F(minArgs: 0, maxArgs: 0) { _, _ throws(JMESPathError) in .string(GoTime(date: Date(), offset: 0).rfc3339) },
        "time_since": F(minArgs: 3, maxArgs: 3) { a, _ throws(JMESPathError) in
            let layout = try A.string("time_since", a, 0)
            let t1 = try layoutTime("time_since", layout, try A.string("time_since", a, 1))
            let s2 = try A.string("time_since", a, 2)
            let t2 = s2.isEmpty ? GoTime(date: Date(), offset: 0) : try layoutTime("time_since", layout, s2)
            return .string(GoDuration.format(t2.date.timeIntervalSince(t1.date)))
        },
        "time_to_cron": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in
            let t = try time("time_to_cron", a, 0)
            return .string([Calendar.Component.minute, .hour, .day, .month, .weekday].map { String(t.field($0)) }.joined(separator: " "))
        },
        "time_add": F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            var t = try time("time_add", a, 0)
            t.date += try duration("time_add", a, 1)
            return .string(t.rfc3339)
        },
        "time_parse": F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            let layout = try A.string("time_parse", a, 0), value = try A.string("time_parse", a, 1)
            if Int64(layout) != nil {  // an epoch layout: value is Unix seconds
                guard let secs = Int64(value) else { throw fnError("time_parse", "invalid epoch time \"\(value)\"") }
                return .string(GoTime(date: Date(timeIntervalSince1970: Double(secs)), offset: 0).rfc3339)
            }
            return .string(try layoutTime("time_parse", layout, value).rfc3339)
        },
        "time_utc": F(minArgs: 1, maxArgs: 1) { a, _ throws(JMESPathError) in .string(try time("time_utc", a, 0).utc.rfc3339) },
        "time_diff": F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            let t1 = try time("time_diff", a, 0), t2 = try time("time_diff", a, 1)
            return .string(GoDuration.format(t2.date.timeIntervalSince(t1.date)))
        },
        "time_before": F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            .bool(try time("time_before", a, 0).date < (try time("time_before", a, 1)).date)
        },
        "time_after": F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            .bool(try time("time_after", a, 0).date > (try time("time_after", a, 1)).date)
        },
        "time_between": F(minArgs: 3, maxArgs: 3) { a, _ throws(JMESPathError) in
            let t = try time("time_between", a, 0).date
            let start = try time("time_between", a, 1).date, end = try time("time_between", a, 2).date
            return .bool(t > start && t < end)
        },
        "time_truncate": F(minArgs: 2, maxArgs: 2) { a, _ throws(JMESPathError) in
            // Go's Truncate rounds down to a multiple of the duration since the zero time (absolute, offset-independent).
            var t = try time("time_truncate", a, 0)
            let d = try duration("time_truncate", a, 1)
            if d > 0 {
                let sinceZero = t.date.timeIntervalSince1970 + 62_135_596_800  // seconds since 0001-01-01T00:00:00Z
                t.date -= sinceZero.truncatingRemainder(dividingBy: d)
            }
            return .string(t.rfc3339)
        },
    ]
}

/// Go's `filepath.Join(path)` (Unix): `path_canonicalize`.
enum PathClean {
    static func clean(_ path: String) -> String {
        if path.isEmpty { return "" }  // filepath.Join of one empty element
        let rooted = path.hasPrefix("/")
        var out: [Substring] = []
        for part in path.split(separator: "/") {
            switch part {
            case ".": continue
            case "..":
                if let last = out.last, last != ".." { out.removeLast() } else if !rooted { out.append(part) }
            default: out.append(part)
            }
        }
        let joined = out.joined(separator: "/")
        return rooted ? "/" + joined : (joined.isEmpty ? "." : joined)
    }
}
