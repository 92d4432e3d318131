// Hand-written matcher for the distribution/reference grammar (no regex engine needed,
// and each failure can name the exact part that is wrong).

enum ImageReferenceParser {
    static let nameTotalLengthMax = 255
    static let tagLengthMax = 128
    /// Digest algorithms we can verify, with their hex length.
    static let digestHexLengths: [String: Int] = ["sha256": 64, "sha384": 96, "sha512": 128]

    static func parse(_ input: String) throws(ImageReferenceError) -> ImageRef {
        func fail(_ part: ImageReferenceError.Part, _ reason: String) -> ImageReferenceError {
            ImageReferenceError(part: part, input: input, reason: reason)
        }
        if input.isEmpty { throw fail(.reference, "empty reference") }
        if input.contains(where: { $0.isWhitespace }) { throw fail(.reference, "contains whitespace") }

        // 1. digest: everything after the first "@".
        var rest = Substring(input)
        var digest: String?
        if let at = rest.firstIndex(of: "@") {
            let d = String(rest[rest.index(after: at)...])
            try validateDigest(d, input: input)
            digest = d
            rest = rest[..<at]
        }
        // 2. tag: after the last ":" unless that colon belongs to a registry port (a "/" follows it).
        var tag: String?
        if let colon = rest.lastIndex(of: ":"), !rest[rest.index(after: colon)...].contains("/") {
            let t = String(rest[rest.index(after: colon)...])
            guard isValidTag(t) else {
                throw fail(.tag, "\"\(t)\" must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
            }
            tag = t
            rest = rest[..<colon]
        }
        let name = String(rest)
        if name.isEmpty { throw fail(.name, "missing repository name") }
        if name.utf8.count > nameTotalLengthMax {
            throw fail(.name, "repository name must not be longer than \(nameTotalLengthMax) characters")
        }

        // 3. domain: the first component counts as a registry if it looks like a host.
        var writtenRegistry: String?
        var path = name
        if let slash = name.firstIndex(of: "/") {
            let first = String(name[..<slash])
            if first.contains(".") || first.contains(":") || first == "localhost" || first.lowercased() != first {
                writtenRegistry = first
                path = String(name[name.index(after: slash)...])
            }
        }
        if let reg = writtenRegistry {
            if let reason = registryProblem(reg) { throw fail(.registry, "\"\(reg)\" \(reason)") }
        }
        if path.isEmpty { throw fail(.repository, "missing repository path") }
        if path.contains(where: { $0.isUppercase }) {
            throw fail(.repository, "\"\(path)\" must be lowercase")
        }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            if !isValidPathComponent(component) {
                throw fail(.repository, "path component \"\(component)\" must match [a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*")
            }
        }
        if writtenRegistry == nil, path.utf8.count == 64, path.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) {
            throw fail(.repository, "cannot specify 64-byte hexadecimal strings")
        }

        var registry = writtenRegistry ?? ImageRef.dockerHubRegistry
        var repository = path
        if ImageRef.dockerHubAliases.contains(registry) {
            registry = ImageRef.dockerHubRegistry
            if !repository.contains("/") { repository = "library/" + repository }
        }
        return ImageRef(registry: registry, repository: repository, tag: tag, digest: digest,
                        original: input, writtenRegistry: writtenRegistry, writtenRepository: path)
    }

    static func validateDigest(_ d: String, input: String) throws(ImageReferenceError) {
        func fail(_ reason: String) -> ImageReferenceError {
            ImageReferenceError(part: .digest, input: input, reason: "\"\(d)\" \(reason)")
        }
        guard let colon = d.firstIndex(of: ":") else { throw fail("must be <algorithm>:<hex>") }
        let algorithm = String(d[..<colon])
        let hex = d[d.index(after: colon)...]
        guard !algorithm.isEmpty, algorithm.allSatisfy({ ($0.isLetter && $0.isLowercase && $0.isASCII) || $0.isNumber || "+._-".contains($0) }) else {
            throw fail("has an invalid algorithm")
        }
        guard let expected = digestHexLengths[algorithm] else {
            throw fail("uses unsupported digest algorithm \"\(algorithm)\"")
        }
        guard hex.allSatisfy({ $0.isHexDigit && $0.isASCII && !$0.isUppercase }) else {
            throw fail("must be lowercase hexadecimal after \"\(algorithm):\"")
        }
        guard hex.count == expected else {
            throw fail("must have \(expected) hex characters for \(algorithm), got \(hex.count)")
        }
    }

    static func isWordChar(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "_")
    }

    static func isValidTag(_ t: String) -> Bool {
        guard let first = t.first, isWordChar(first), t.count <= tagLengthMax else { return false }
        return t.allSatisfy { isWordChar($0) || $0 == "." || $0 == "-" }
    }

    static func isAlnumLower(_ c: Character) -> Bool {
        c.isASCII && (c.isNumber || (c.isLetter && c.isLowercase))
    }

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
    static func isValidPathComponent(_ s: Substring) -> Bool {
        let chars = Array(s)
        var i = 0
        func alnumRun() -> Bool {
            let start = i
            while i < chars.count, isAlnumLower(chars[i]) { i += 1 }
            return i > start
        }
        guard alnumRun() else { return false }
        while i < chars.count {
            switch chars[i] {
            case ".": i += 1
            case "_": i += 1; if i < chars.count, chars[i] == "_" { i += 1 }
            case "-": while i < chars.count, chars[i] == "-" { i += 1 }
            default: return false
            }
            guard alnumRun() else { return false }
        }
        return true
    }

    /// nil when `reg` is `host[:port]` with host a DNS name, IPv4 or bracketed IPv6.
    static func registryProblem(_ reg: String) -> String? {
        var host = Substring(reg)
        var port: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return "has an unterminated IPv6 address" }
            let inner = host[host.index(after: host.startIndex)..<close]
            guard !inner.isEmpty, inner.allSatisfy({ $0.isHexDigit || $0 == ":" }), inner.contains(":") else {
                return "has an invalid IPv6 address"
            }
            let after = host[host.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return "has unexpected characters after the IPv6 address" }
                port = after.dropFirst()
            }
            host = host[...close]
        } else {
            if let colon = host.firstIndex(of: ":") {
                port = host[host.index(after: colon)...]
                host = host[..<colon]
            }
            let labels = host.split(separator: ".", omittingEmptySubsequences: false)
            for label in labels {
                guard let f = label.first, let l = label.last,
                      f.isASCII, l.isASCII, f.isLetter || f.isNumber, l.isLetter || l.isNumber,
                      label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
                else { return "has an invalid host name" }
            }
        }
        if let p = port {
            guard !p.isEmpty, p.allSatisfy({ $0.isASCII && $0.isNumber }) else { return "has an invalid port" }
        }
        return nil
    }
}
