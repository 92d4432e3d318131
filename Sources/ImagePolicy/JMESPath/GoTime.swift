import Foundation

/// A Go `time.Time` as Kyverno's time functions see it: an instant and the UTC offset it was written with
/// (RFC 3339 output keeps that offset; `Z` when it is zero). Go layouts (`2006-01-02T15:04:05Z07:00`) parse.
struct GoTime: Equatable {
    var date: Date
    var offset: Int

    static let rfc3339Layout = "2006-01-02T15:04:05Z07:00"

    /// Go's `time.Parse(time.RFC3339, s)` (fractional seconds accepted).
    static func rfc3339(_ s: String) -> GoTime? { try? parse(layout: rfc3339Layout, s) }

    /// `t.Format(time.RFC3339)`: seconds precision, in the time's own offset.
    var rfc3339: String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(secondsFromGMT: offset)!
        let c = cal.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        var s = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
        if offset == 0 { s += "Z" } else {
            let a = abs(offset)
            s += String(format: "%@%02d:%02d", offset < 0 ? "-" : "+", a / 3600, (a % 3600) / 60)
        }
        return s
    }

    var utc: GoTime { GoTime(date: date, offset: 0) }

    /// Calendar fields in the time's offset (minute, hour, day, month, weekday 0 = Sunday).
    func field(_ component: Calendar.Component) -> Int {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(secondsFromGMT: offset)!
        let v = cal.component(component, from: date)
        return component == .weekday ? v - 1 : v
    }

    struct ParseError: Error, CustomStringConvertible { let description: String }

    static let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
    static let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    /// Layout elements, longest first where one is a prefix of another (as Go's nextStdChunk tries them).
    static let tokens = ["January", "Jan", "Monday", "Mon", "MST", "2006", "Z07:00", "Z0700", "Z07", "-07:00", "-0700", "-07",
                         "01", "02", "03", "04", "05", "06", "_2", "15", "PM", "pm", "1", "2", "3", "4", "5"]

    /// `time.Parse(layout, value)` for the common layout elements; others are an error naming them.
    static func parse(layout: String, _ value: String) throws(ParseError) -> GoTime {
        var l = Substring(layout), v = Substring(value)
        var year = 1, month = 1, day = 1, hour = 0, minute = 0, second = 0, nanos = 0.0, offset = 0, pm: Bool?
        func fail(_ why: String) -> ParseError { ParseError(description: "parsing time \"\(value)\" as \"\(layout)\": \(why)") }
        func digits(_ exact: Int?, max: Int = 2) throws(ParseError) -> Int {
            let run = v.prefix { $0.isASCII && $0.isNumber }
            let n = exact ?? min(run.count, max)
            guard n > 0, run.count >= n, let x = Int(run.prefix(n)) else { throw fail("cannot parse \"\(v)\"") }
            v = v.dropFirst(n)
            return x
        }
        func word(_ list: [String], short: Bool) throws(ParseError) -> Int {
            for (i, w) in list.enumerated() {
                let name = short ? String(w.prefix(3)) : w
                if v.lowercased().hasPrefix(name.lowercased()) { v = v.dropFirst(name.count); return i }
            }
            throw fail("cannot parse \"\(v)\"")
        }
        while !l.isEmpty {
            if l.hasPrefix(".0") || l.hasPrefix(".9") || l.hasPrefix(",0") || l.hasPrefix(",9") {
                let run = l.dropFirst().prefix { $0 == "0" || $0 == "9" }
                l = l.dropFirst(1 + run.count)
                guard v.first == "." || v.first == "," else { if run.first == "9" { continue }; throw fail("missing fraction") }
                v = v.dropFirst()
                let f = v.prefix { $0.isASCII && $0.isNumber }
                v = v.dropFirst(f.count)
                nanos = Double("0." + f) ?? 0
                continue
            }
            guard let t = tokens.first(where: { l.hasPrefix($0) }) else {
                guard l.first == v.first else { throw fail("cannot parse \"\(v)\" as \"\(l)\"") }
                l = l.dropFirst(); v = v.dropFirst()
                continue
            }
            l = l.dropFirst(t.count)
            switch t {
            case "2006": year = try digits(4)
            case "06": year = 2000 + (try digits(2)); if year >= 2069 { year -= 100 }
            case "01": month = try digits(2)
            case "1": month = try digits(nil)
            case "Jan": month = try word(months, short: true) + 1
            case "January": month = try word(months, short: false) + 1
            case "Mon": _ = try word(days, short: true)
            case "Monday": _ = try word(days, short: false)
            case "02": day = try digits(2)
            case "2": day = try digits(nil)
            case "_2": if v.first == " " { v = v.dropFirst() }; day = try digits(nil)
            case "15": hour = try digits(nil)
            case "03": hour = try digits(2)
            case "3": hour = try digits(nil)
            case "04": minute = try digits(2)
            case "4": minute = try digits(nil)
            case "05", "5":
                second = try digits(t == "05" ? 2 : nil)
                // Go: a fraction may follow the seconds even when the layout has none.
                if v.first == ".", v.dropFirst().first?.isNumber == true, l.first != "." {
                    v = v.dropFirst()
                    let f = v.prefix { $0.isASCII && $0.isNumber }
                    v = v.dropFirst(f.count)
                    nanos = Double("0." + f) ?? 0
                }
            case "PM", "pm":
                let ap = v.prefix(2).uppercased()
                guard ap == "AM" || ap == "PM" else { throw fail("cannot parse \"\(v)\" as \"\(t)\"") }
                pm = ap == "PM"; v = v.dropFirst(2)
            case "MST":
                let zone = v.prefix { $0.isLetter }
                guard zone.count >= 3 else { throw fail("cannot parse \"\(v)\" as \"MST\"") }
                v = v.dropFirst(zone.count)
                offset = 0
            default:  // numeric zones
                if t.hasPrefix("Z"), v.first == "Z" { v = v.dropFirst(); offset = 0; continue }
                guard let sign = v.first, sign == "+" || sign == "-" else { throw fail("cannot parse \"\(v)\" as \"\(t)\"") }
                v = v.dropFirst()
                let h = try digits(2)
                var m = 0
                if t.hasSuffix(":00") { guard v.first == ":" else { throw fail("cannot parse \"\(v)\"") }; v = v.dropFirst(); m = try digits(2) }
                else if t.hasSuffix("0700") { m = try digits(2) }
                offset = (sign == "-" ? -1 : 1) * (h * 3600 + m * 60)
            }
        }
        guard v.isEmpty else { throw fail("extra text: \"\(v)\"") }
        if let pm { if hour > 12 { throw fail("hour out of range") }; if pm && hour < 12 { hour += 12 } else if !pm && hour == 12 { hour = 0 } }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60 else { throw fail("value out of range") }
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(secondsFromGMT: offset)!
        let comps = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard let d = cal.date(from: comps), cal.component(.day, from: d) == day else { throw fail("day out of range") }
        return GoTime(date: d.addingTimeInterval(nanos), offset: offset)
    }
}
