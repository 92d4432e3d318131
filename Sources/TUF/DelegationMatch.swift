import Crypto

/// Whether a delegated role is trusted for a target path (specification §4.5, `paths` / `path_hash_prefixes`).
extension DelegatedRole {
    public func isDelegated(_ targetPath: String) -> Bool {
        if let paths {
            return paths.contains { PathPattern.matches(pattern: $0, path: targetPath) }
        }
        if let pathHashPrefixes {
            let digest = Hex.encode(SHA256.hash(data: Array(targetPath.utf8)))
            return pathHashPrefixes.contains { digest.hasPrefix($0.lowercased()) }
        }
        // Neither given: the role is trusted for nothing.
        return false
    }
}

/// Shell-style patterns where `*` never crosses a `/`: pattern and path must have the same number of
/// `/`-separated parts and each part must match (`*`, `?`, `[abc]`, `[!abc]`, ranges), as python-tuf and go-tuf
/// do. So `targets/*.tgz` does not trust `targets/sub/x.tgz`.
enum PathPattern {
    static func matches(pattern: String, path: String) -> Bool {
        let p = pattern.split(separator: "/", omittingEmptySubsequences: false)
        let t = path.split(separator: "/", omittingEmptySubsequences: false)
        guard p.count == t.count else { return false }
        return zip(p, t).allSatisfy { segment(Array($0.unicodeScalars), Array($1.unicodeScalars)) }
    }

    /// fnmatch on one segment, iterative with backtracking to the last `*` (linear in practice, no recursion).
    static func segment(_ p: [Unicode.Scalar], _ s: [Unicode.Scalar]) -> Bool {
        var pi = 0, si = 0
        var star: Int? = nil, starS = 0
        while si < s.count {
            if pi < p.count {
                switch p[pi] {
                case "*":
                    star = pi; starS = si; pi += 1
                    continue
                case "?":
                    pi += 1; si += 1
                    continue
                case "[":
                    if let (matched, next) = bracket(p, pi, s[si]) {
                        if matched { pi = next; si += 1; continue }
                    } else if s[si] == "[" {
                        // An unclosed bracket is a literal "[".
                        pi += 1; si += 1
                        continue
                    }
                default:
                    if p[pi] == s[si] { pi += 1; si += 1; continue }
                }
            }
            guard let st = star else { return false }
            pi = st + 1
            starS += 1
            si = starS
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// Matches `c` against the bracket expression at `p[start]`; nil when the bracket is not closed.
    private static func bracket(_ p: [Unicode.Scalar], _ start: Int, _ c: Unicode.Scalar) -> (Bool, Int)? {
        var i = start + 1
        var negate = false
        if i < p.count, p[i] == "!" { negate = true; i += 1 }
        var matched = false
        var first = true
        while i < p.count {
            if p[i] == "]" && !first { return (matched != negate, i + 1) }
            first = false
            if i + 2 < p.count, p[i + 1] == "-", p[i + 2] != "]" {
                if p[i].value <= c.value && c.value <= p[i + 2].value { matched = true }
                i += 3
            } else {
                if p[i] == c { matched = true }
                i += 1
            }
        }
        return nil
    }
}
