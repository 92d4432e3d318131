import ImageReference

/// Connaisseur's image policy matching: a rule's `pattern` is a glob (`*` any run of characters, `?` one) over the
/// full image name, `registry/repository:tag` (Docker Hub as `docker.io`, with `library/`; `@digest` when given
/// by digest). Of the matching patterns the most specific wins: more `/` components; then, component by component
/// from the left, the longer common prefix with the image's component; then the longer component.
public enum ConnaisseurPattern {
    public static func imageName(_ image: ImageRef) -> String {
        let registry = image.isDockerHub ? "docker.io" : image.registry
        var s = "\(registry)/\(image.repository)"
        if let t = image.tag { s += ":\(t)" }
        if let d = image.digest { s += "@\(d)" }
        if image.tag == nil && image.digest == nil { s += ":latest" }
        return s
    }

    public static func matches(_ pattern: String, _ name: String) -> Bool { Wildcard.match(pattern: pattern, name) }

    /// The most specific of the matching rules, or nil when none matches.
    public static func bestRule(_ rules: [ConnaisseurRule], for image: ImageRef) -> ConnaisseurRule? {
        let name = imageName(image)
        let components = name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var best: ConnaisseurRule?
        for rule in rules where matches(rule.pattern, name) {
            if let b = best, !moreSpecific(rule.pattern, than: b.pattern, image: components) { continue }
            best = rule
        }
        return best
    }

    /// Whether `a` is strictly more specific than `b` for the image's components (ties keep the earlier rule).
    static func moreSpecific(_ a: String, than b: String, image: [String]) -> Bool {
        let ac = a.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let bc = b.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if ac.count != bc.count { return ac.count > bc.count }
        for (k, (x, y)) in zip(ac, bc).enumerated() {
            let target = k < image.count ? image[k] : ""
            let px = commonPrefix(x, target), py = commonPrefix(y, target)
            if px != py { return px > py }
        }
        for (x, y) in zip(ac, bc) where x.count != y.count { return x.count > y.count }
        return false
    }

    static func commonPrefix(_ a: String, _ b: String) -> Int {
        zip(a, b).prefix { $0 == $1 }.count
    }
}
