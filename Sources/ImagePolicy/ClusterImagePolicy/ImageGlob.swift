import ImageReference

/// A policy-controller image glob: `*` matches within a path segment (not `/`), `**` matches
/// anything, everything else is literal. Bare `*` and `*/*` are shorthand for Docker Hub
/// (`index.docker.io/library/*`, `index.docker.io/*/*`).
public struct ImageGlob: Sendable, Hashable, CustomStringConvertible {
    enum Token: Sendable, Hashable { case literal(UInt8), star, doubleStar }

    public let pattern: String
    let tokens: [Token]
    /// The bytes before the first `*`: most non-matching images already differ here.
    let literalPrefix: [UInt8]

    public struct InvalidGlob: Error, CustomStringConvertible {
        public let glob: String
        public let reason: String
        public var description: String { "invalid glob \"\(glob)\": \(reason)" }
    }

    static let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:/*.@")

    public init(_ pattern: String) throws(InvalidGlob) {
        guard !pattern.isEmpty else { throw InvalidGlob(glob: pattern, reason: "empty glob") }
        var expanded = pattern
        if pattern == "*/*" { expanded = "index.docker.io/*/*" }
        if pattern == "*" { expanded = "index.docker.io/library/*" }
        if let bad = expanded.first(where: { !Self.allowed.contains($0) }) {
            throw InvalidGlob(glob: pattern, reason: "character \"\(bad)\" is not allowed; a glob may contain only letters, digits and - _ : / * . @")
        }
        // Allowed characters are ASCII, so the glob works on bytes.
        var tokens: [Token] = []
        var bytes = Array(expanded.utf8)[...]
        let star = UInt8(ascii: "*")
        while let b = bytes.first {
            if b == star, bytes.dropFirst().first == star {
                tokens.append(.doubleStar); bytes = bytes.dropFirst(2)
            } else if b == star {
                tokens.append(.star); bytes = bytes.dropFirst()
            } else {
                tokens.append(.literal(b)); bytes = bytes.dropFirst()
            }
        }
        self.pattern = pattern
        self.tokens = tokens
        literalPrefix = Array(expanded.utf8.prefix { $0 != star })
    }

    /// Matches the normalized reference (`index.docker.io/library/x:latest`, or `…@digest`),
    /// falling back to the string as written, as policy-controller does for short names.
    public func matches(_ image: ImageRef) -> Bool {
        if matches(string: image.policyMatchString) { return true }
        return image.original != image.policyMatchString && matches(string: image.original)
    }

    public func matches(string: String) -> Bool {
        guard string.utf8.starts(with: literalPrefix) else { return false }
        var string = string  // withUTF8 on a native string: its own bytes, no array per match
        return string.withUTF8 { bytes in Self.match(tokens[...], bytes[...]) }
    }

    private static func match(_ t: ArraySlice<Token>, _ s: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        guard let first = t.first else { return s.isEmpty }
        let rest = t.dropFirst()
        switch first {
        case .literal(let c):
            guard s.first == c else { return false }
            return match(rest, s.dropFirst())
        case .star:
            var i = s.startIndex
            while true {
                if match(rest, s[i...]) { return true }
                if i == s.endIndex || s[i] == UInt8(ascii: "/") { return false }
                i += 1
            }
        case .doubleStar:
            if rest.isEmpty { return true }  // a trailing `**` takes whatever is left (`**` alone: every image)
            var i = s.startIndex
            while true {
                if match(rest, s[i...]) { return true }
                if i == s.endIndex { return false }
                i += 1
            }
        }
    }

    public var description: String { pattern }
}
