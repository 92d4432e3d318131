import Foundation

/// RFC 3339 times: TUF `expires`, Sigstore trusted-root validity periods, CUE `time.Parse`. TUF writes
/// `YYYY-MM-DDTHH:MM:SSZ`; early Sigstore roots carry fractional seconds and a numeric offset
/// (`2021-12-18T13:28:12.99008-06:00`), so full RFC 3339 is accepted. Parsed by hand, without locale or Foundation
/// formatter state, so the result never depends on the host (and ICU's calendar data is never loaded for it:
/// several MB of a server's resident memory).
public enum RFC3339 {
    public static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        func num(_ at: Int, _ len: Int) -> Int? {
            guard at + len <= b.count else { return nil }
            var v = 0
            for k in at..<at + len {
                guard b[k] >= 48, b[k] <= 57 else { return nil }
                v = v * 10 + Int(b[k] - 48)
            }
            return v
        }
        func at(_ k: Int, _ c: Character) -> Bool { k < b.count && b[k] == c.asciiValue! }
        guard let year = num(0, 4), at(4, "-"), let month = num(5, 2), at(7, "-"), let day = num(8, 2),
              at(10, "T") || at(10, "t"), let hour = num(11, 2), at(13, ":"), let minute = num(14, 2), at(16, ":"),
              let second = num(17, 2) else { return nil }
        guard (1...12).contains(month), (1...daysIn(month, year)).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var k = 19
        var fraction = 0.0
        if at(k, ".") {
            k += 1
            var scale = 0.1
            let start = k
            while k < b.count, b[k] >= 48, b[k] <= 57 { fraction += Double(b[k] - 48) * scale; scale /= 10; k += 1 }
            guard k > start else { return nil }
        }
        var offset = 0
        if at(k, "Z") || at(k, "z") {
            k += 1
        } else if at(k, "+") || at(k, "-") {
            let sign = at(k, "-") ? -1 : 1
            guard let oh = num(k + 1, 2), at(k + 3, ":"), let om = num(k + 4, 2), oh < 24, om < 60 else { return nil }
            offset = sign * (oh * 3600 + om * 60)
            k += 6
        } else {
            return nil
        }
        guard k == b.count else { return nil }
        let days = daysFromCivil(year, month, day)
        let seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` (whole seconds, rounded down, UTC), the form TUF writes; digits written directly
    /// (`String(format:)` goes through CFString, and verdicts write several times per image).
    public static func format(_ date: Date) -> String {
        let total = Int(floor(date.timeIntervalSince1970))
        let days = Int(floor(Double(total) / 86400))
        let secs = total - days * 86400
        let (y, m, d) = civilFromDays(days)
        func digits(_ v: Int, _ n: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, n - s.count)) + s }
        return "\(digits(y, 4))-\(digits(m, 2))-\(digits(d, 2))T\(digits(secs / 3600, 2)):\(digits(secs / 60 % 60, 2)):\(digits(secs % 60, 2))Z"
    }

    private static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    private static func daysIn(_ m: Int, _ y: Int) -> Int {
        [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
    }

    // Howard Hinnant's civil-calendar algorithms (proleptic Gregorian, days since 1970-01-01); CEL's timestamps use them too.
    public static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    public static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
