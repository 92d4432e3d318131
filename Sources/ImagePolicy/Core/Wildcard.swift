/// Kyverno's `wildcard.Match`: `*` matches any run of characters (including `/`), `?` exactly one.
/// Everything else is literal; the whole string must match.
public enum Wildcard {
    public static func match(pattern: String, _ value: String) -> Bool {
        let p = Array(pattern), v = Array(value)
        // Classic greedy matcher with backtracking to the last `*`.
        var pi = 0, vi = 0, star = -1, mark = 0
        while vi < v.count {
            if pi < p.count, p[pi] == "?" || p[pi] == v[vi] {
                pi += 1; vi += 1
            } else if pi < p.count, p[pi] == "*" {
                star = pi; mark = vi; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; vi = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    public static func containsWildcard(_ s: String) -> Bool { s.contains("*") || s.contains("?") }
}
