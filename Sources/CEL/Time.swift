import Foundation
import SealgateCore

/// Timestamp and duration arithmetic, RFC 3339 and Go-style duration text, and calendar fields.
enum TimeMath {
    static func add(_ t: CELTimestamp, _ nanos: Int64) throws -> CELTimestamp {
        let (s, n) = (nanos / 1_000_000_000, nanos % 1_000_000_000)
        let seconds = t.seconds.addingReportingOverflow(s)
        guard !seconds.overflow, let r = CELTimestamp(seconds: seconds.partialValue, nanos: Int64(t.nanos) + n) else {
            throw CELError.eval("timestamp out of range")
        }
        return r
    }

    static func difference(_ a: CELTimestamp, _ b: CELTimestamp) throws -> CELDuration {
        // Both in range, so the seconds difference cannot overflow; the nanoseconds total can.
        let seconds = a.seconds - b.seconds
        let total = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !total.overflow else { throw CELError.eval("duration out of range") }
        let r = total.partialValue.addingReportingOverflow(Int64(a.nanos) - Int64(b.nanos))
        guard !r.overflow else { throw CELError.eval("duration out of range") }
        return CELDuration(nanoseconds: r.partialValue)
    }

    // MARK: civil dates (proleptic Gregorian, days since 1970-01-01)

    static func civil(fromDays z: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let (y, m, d) = RFC3339.civilFromDays(Int(z))
        return (Int64(y), Int64(m), Int64(d))
    }

    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        Int64(RFC3339.daysFromCivil(Int(year), Int(month), Int(day)))
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

    // MARK: RFC 3339

    static func parseTimestamp(_ text: String) throws -> CELTimestamp {
        let bad = CELError.eval("invalid timestamp \"\(text)\"")
        let c = Array(text.utf8)
        func digits(_ at: Int, _ n: Int) throws -> Int64 {
            guard at + n <= c.count else { throw bad }
            var v: Int64 = 0
            for i in at..<(at + n) {
                guard c[i] >= 48, c[i] <= 57 else { throw bad }
                v = v * 10 + Int64(c[i] - 48)
            }
            return v
        }
        guard c.count >= 20, c[4] == 45, c[7] == 45, c[10] == 84 || c[10] == 116, c[13] == 58, c[16] == 58 else {
            // A five-digit year and other shapes are out of range or malformed either way.
            throw CELError.eval("timestamp \"\(text)\" malformed or out of range")
        }
        let year = try digits(0, 4), month = try digits(5, 2), day = try digits(8, 2)
        let hour = try digits(11, 2), minute = try digits(14, 2), second = try digits(17, 2)
        guard year >= 1, (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60 else {
            throw CELError.eval("timestamp \"\(text)\" out of range")
        }
        var i = 19
        var nanos: Int64 = 0
        if i < c.count, c[i] == 46 {
            i += 1
            var count = 0
            while i < c.count, c[i] >= 48, c[i] <= 57 {
                if count < 9 { nanos = nanos * 10 + Int64(c[i] - 48) }
                count += 1
                i += 1
            }
            guard count > 0 else { throw bad }
            for _ in count..<9 where count < 9 { nanos *= 10 }
        }
        var offset: Int64 = 0
        guard i < c.count else { throw bad }
        if c[i] == 90 || c[i] == 122 {
            i += 1
        } else if c[i] == 43 || c[i] == 45 {
            let sign: Int64 = c[i] == 45 ? -1 : 1
            guard i + 6 == c.count, c[i + 3] == 58 else { throw bad }
            offset = sign * (try digits(i + 1, 2) * 3600 + digits(i + 4, 2) * 60)
            i += 6
        }
        guard i == c.count else { throw bad }
        let seconds = days(fromCivil: year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset
        guard let t = CELTimestamp(seconds: seconds, nanos: nanos) else { throw CELError.eval("timestamp \"\(text)\" out of range") }
        return t
    }

    static func format(_ t: CELTimestamp) -> String {
        let days = floorDiv(t.seconds, 86400)
        let secs = t.seconds - days * 86400
        let (y, m, d) = civil(fromDays: days)
        var s = pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) + "T" + pad(secs / 3600, 2) + ":" + pad(secs / 60 % 60, 2) + ":" + pad(secs % 60, 2)
        if t.nanos != 0 {
            var frac = pad(Int64(t.nanos), 9)
            while frac.hasSuffix("0") { frac.removeLast() }
            s += "." + frac
        }
        return s + "Z"
    }

    static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    // MARK: durations

    /// Go's time.ParseDuration syntax: `[-+]` then one or more `<decimal><unit>` with units h m s ms us µs ns.
    static func parseDuration(_ text: String) throws -> CELDuration {
        let bad = CELError.eval("invalid duration \"\(text)\"")
        var s = Substring(text)
        var negative = false
        if s.first == "-" || s.first == "+" { negative = s.first == "-"; s = s.dropFirst() }
        if s == "0" { return CELDuration(nanoseconds: 0) }
        guard !s.isEmpty else { throw bad }
        var total: Double = 0
        var exact: Int64 = 0
        var exactOK = true
        while !s.isEmpty {
            let number = s.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != "." else { throw bad }
            s = s.dropFirst(number.count)
            let unitText = s.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            s = s.dropFirst(unitText.count)
            let unit: Int64
            switch unitText {
            case "h": unit = 3_600_000_000_000
            case "m": unit = 60_000_000_000
            case "s": unit = 1_000_000_000
            case "ms": unit = 1_000_000
            case "us", "µs", "μs": unit = 1000
            case "ns": unit = 1
            default: throw bad
            }
            guard let value = Double(number) else { throw bad }
            total += value * Double(unit)
            if exactOK, !number.contains("."), let whole = Int64(number) {
                let m = whole.multipliedReportingOverflow(by: unit)
                let a = exact.addingReportingOverflow(m.partialValue)
                if m.overflow || a.overflow { exactOK = false } else { exact = a.partialValue }
            } else {
                exactOK = false
            }
        }
        if exactOK { return CELDuration(nanoseconds: negative ? -exact : exact) }
        guard total < 9.2e18 else { throw CELError.eval("duration \"\(text)\" out of range") }
        let n = Int64(total.rounded(.towardZero))
        return CELDuration(nanoseconds: negative ? -n : n)
    }

    /// Seconds with a fraction if needed, as CEL's string(duration): "1.5s", "-3600s".
    static func format(_ d: CELDuration) -> String {
        let n = d.nanoseconds
        let negative = n < 0
        let magnitude = n.magnitude
        var s = String(magnitude / 1_000_000_000)
        let frac = magnitude % 1_000_000_000
        if frac != 0 {
            var f = pad(Int64(frac), 9)
            while f.hasSuffix("0") { f.removeLast() }
            s += "." + f
        }
        return (negative ? "-" : "") + s + "s"
    }

    // MARK: calendar fields

    /// Seconds east of UTC for a zone name ("America/New_York", "UTC") or offset ("+05:30", "-08:00", "02:00").
    static func offset(_ zone: String, at t: CELTimestamp) throws -> Int64 {
        let c = Array(zone.utf8)
        var body = c[...]
        var sign: Int64 = 1
        if let f = body.first, f == 43 || f == 45 { sign = f == 45 ? -1 : 1; body = body.dropFirst() }
        if body.count == 5, body[body.startIndex + 2] == 58,
           let h = Int64(String(decoding: body.prefix(2), as: UTF8.self)),
           let m = Int64(String(decoding: body.suffix(2), as: UTF8.self)) {
            return sign * (h * 3600 + m * 60)
        }
        guard let tz = TimeZone(identifier: zone) else { throw CELError.eval("unknown time zone \"\(zone)\"") }
        return Int64(tz.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t.seconds))))
    }

    struct Fields {
        let year, month, day, hour, minute, second, dayOfWeek, dayOfYear: Int64
    }

    static func fields(_ t: CELTimestamp, zone: String?) throws -> Fields {
        let local = t.seconds + (try zone.map { try offset($0, at: t) } ?? 0)
        let days = floorDiv(local, 86400)
        let secs = local - days * 86400
        let (y, m, d) = civil(fromDays: days)
        let weekday = ((days % 7) + 11) % 7  // 1970-01-01 was a Thursday (4)
        return Fields(year: y, month: m, day: d, hour: secs / 3600, minute: secs / 60 % 60, second: secs % 60,
                      dayOfWeek: weekday, dayOfYear: days - Self.days(fromCivil: y, 1, 1))
    }
}
