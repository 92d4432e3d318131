/// Kyverno's `wildcard.Match`: `*` matches any run of characters (including `/`), `?` exactly one.
/// Everything else is literal; the whole string must match.
public enum Wildcard {
    public static func match(pattern: String, _ value: String) -> Bool {
        // ASCII (every image reference) on bytes; otherwise on Unicode scalars, as Go's runes.
        if pattern.utf8.allSatisfy({ $0 < 0x80 }) && value.utf8.allSatisfy({ $0 < 0x80 }) {
            return match(Array(pattern.utf8), Array(value.utf8), any: UInt8(ascii: "?"), star: UInt8(ascii: "*"))
        }
        return match(Array(pattern.unicodeScalars), Array(value.unicodeScalars), any: "?", star: "*")
    }

    /// Classic greedy matcher with backtracking to the last `*`.
    private static func match<T: Equatable>(_ p: [T], _ v: [T], any: T, star: T) -> Bool {
        var pi = 0, vi = 0, lastStar = -1, mark = 0
        while vi < v.count {
            if pi < p.count, p[pi] == any || p[pi] == v[vi] {
                pi += 1; vi += 1
            } else if pi < p.count, p[pi] == star {
                lastStar = pi; mark = vi; pi += 1
            } else if lastStar >= 0 {
                pi = lastStar + 1; mark += 1; vi = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == star { pi += 1 }
        return pi == p.count
    }
    public static func containsWildcard(_ s: String) -> Bool { s.contains("*") || s.contains("?") }
}
