/// Semantic versions and ranges as Kyverno's `semver_compare` reads them (blang/semver v4): strict
/// `MAJOR.MINOR.PATCH[-pre][+build]`; ranges are `||` of space-separated comparisons (`>=1.0.0 <2.0.0`),
/// operators `= == ! != > >= < <=` (none means `=`), `x` wildcards (`1.2.x`, `>=1.x`).
struct Semver: Comparable {
    var major: UInt64, minor: UInt64, patch: UInt64
    var pre: [String]

    struct Failure: Error, CustomStringConvertible { let description: String }

    init(major: UInt64, minor: UInt64, patch: UInt64, pre: [String] = []) {
        self.major = major; self.minor = minor; self.patch = patch; self.pre = pre
    }

    init(_ s: String) throws(Failure) {
        var core = Substring(s)
        if let plus = core.firstIndex(of: "+") {
            let build = core[core.index(after: plus)...]
            guard !build.isEmpty, build.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ Self.isIdent($0) }) else {
                throw Failure(description: "invalid build metadata in \"\(s)\"")
            }
            core = core[..<plus]
        }
        var pre: [String] = []
        if let dash = core.firstIndex(of: "-") {
            let p = core[core.index(after: dash)...].split(separator: ".", omittingEmptySubsequences: false)
            for id in p {
                guard Self.isIdent(id), !(id.allSatisfy(\.isNumber) && id.count > 1 && id.first == "0") else {
                    throw Failure(description: "invalid prerelease \"\(id)\" in \"\(s)\"")
                }
                pre.append(String(id))
            }
            core = core[..<dash]
        }
        let nums = core.split(separator: ".", omittingEmptySubsequences: false)
        guard nums.count == 3 else { throw Failure(description: "\"\(s)\" is not MAJOR.MINOR.PATCH") }
        var parsed: [UInt64] = []
        for n in nums {
            guard !n.isEmpty, n.allSatisfy({ $0.isASCII && $0.isNumber }), !(n.count > 1 && n.first == "0"), let v = UInt64(n) else {
                throw Failure(description: "invalid version number \"\(n)\" in \"\(s)\"")
            }
            parsed.append(v)
        }
        self.init(major: parsed[0], minor: parsed[1], patch: parsed[2], pre: pre)
    }

    static func isIdent(_ s: Substring) -> Bool { !s.isEmpty && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") } }

    static func < (a: Semver, b: Semver) -> Bool {
        if (a.major, a.minor, a.patch) != (b.major, b.minor, b.patch) { return (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch) }
        if a.pre.isEmpty || b.pre.isEmpty { return !a.pre.isEmpty && b.pre.isEmpty }
        for (x, y) in zip(a.pre, b.pre) where x != y {
            switch (UInt64(x), UInt64(y)) {
            case (let i?, let j?): return i < j
            case (.some, nil): return true
            case (nil, .some): return false
            default: return x < y
            }
        }
        return a.pre.count < b.pre.count
    }

    static func == (a: Semver, b: Semver) -> Bool { !(a < b) && !(b < a) }

    /// Whether `version` is in `range` (ORed groups of ANDed comparisons).
    static func satisfies(_ version: Semver, range: String) throws(Failure) -> Bool {
        var any = false
        for group in range.components(separatedBy: "||") {
            let parts = try expand(split(group))
            guard !parts.isEmpty else { throw Failure(description: "empty range in \"\(range)\"") }
            var all = true
            for p in parts where !(try compare(version, p)) { all = false }
            if all { any = true }
        }
        return any
    }

    /// Splits on spaces, except a space right after an operator (`>= 1.0.0`).
    static func split(_ s: String) -> [String] {
        var out: [String] = [], current = "", last: Character = " "
        for c in s {
            if c == " " {
                if !">=<".contains(last), !current.isEmpty { out.append(current); current = "" }
            } else { current.append(c); last = c }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    static func operatorAndVersion(_ s: String) -> (String, String) {
        let op = s.prefix { "=!<>".contains($0) }
        return (String(op), String(s.dropFirst(op.count)))
    }

    /// blang's expandWildcardVersion: `x` parts become bounds.
    static func expand(_ parts: [String]) throws(Failure) -> [String] {
        var out: [String] = []
        for p in parts {
            guard p.contains("x") else { out.append(p); continue }
            let (op, v) = operatorAndVersion(p)
            let fields = v.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 2, fields.count <= 3, fields[0] != "x" else { throw Failure(description: "unsupported wildcard version \"\(v)\"") }
            let minorWild = fields[1] == "x"
            guard minorWild || (fields.count == 3 && fields[2] == "x") else { throw Failure(description: "unsupported wildcard version \"\(v)\"") }
            let flat = minorWild ? "\(fields[0]).0.0" : "\(fields[0]).\(fields[1]).0"
            let base = try Semver(flat)
            let next = minorWild ? "\(base.major + 1).0.0" : "\(base.major).\(base.minor + 1).0"
            switch op {
            case ">": out.append(">=" + next)
            case ">=": out.append(">=" + flat)
            case "<": out.append("<" + flat)
            case "<=": out.append("<" + next)
            case "", "=", "==": out.append(">=" + flat); out.append("<" + next)
            case "!=", "!": out.append("<" + flat); out.append(">=" + next)
            default: throw Failure(description: "invalid operator \"\(op)\"")
            }
        }
        return out
    }

    static func compare(_ v: Semver, _ part: String) throws(Failure) -> Bool {
        let (op, text) = operatorAndVersion(part)
        let w = try Semver(text)
        switch op {
        case "", "=", "==": return v == w
        case "!", "!=": return v != w
        case ">": return v > w
        case ">=": return v >= w
        case "<": return v < w
        case "<=": return v <= w
        default: throw Failure(description: "invalid operator \"\(op)\" in \"\(part)\"")
        }
    }
}
