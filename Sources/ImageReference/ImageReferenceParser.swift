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
        // Byte checks below assume ASCII; anything else is checked by Character (slower, rare).
        if input.utf8.contains(where: { $0 == 0x20 || (0x09...0x0D).contains($0) })
            || (!input.utf8.allSatisfy { $0 < 0x80 } && input.contains(where: { $0.isWhitespace })) {
            throw fail(.reference, "contains whitespace")
        }

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
        if path.utf8.contains(where: { (0x41...0x5A).contains($0) }) || (!path.utf8.allSatisfy { $0 < 0x80 } && path.contains(where: { $0.isUppercase })) {
            throw fail(.repository, "\"\(path)\" must be lowercase")
        }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            if !isValidPathComponent(component) {
                throw fail(.repository, "path component \"\(component)\" must match [a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*")
            }
        }
        if writtenRegistry == nil, path.utf8.count == 64, path.utf8.allSatisfy(isLowerHex) {
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
        guard !algorithm.isEmpty, algorithm.utf8.allSatisfy({ (0x61...0x7A).contains($0) || isDigit($0) || "+._-".utf8.contains($0) }) else {
            throw fail("has an invalid algorithm")
        }
        guard let expected = digestHexLengths[algorithm] else {
            throw fail("uses unsupported digest algorithm \"\(algorithm)\"")
        }
        guard hex.utf8.allSatisfy(isLowerHex) else {
            throw fail("must be lowercase hexadecimal after \"\(algorithm):\"")
        }
        guard hex.utf8.count == expected else {
            throw fail("must have \(expected) hex characters for \(algorithm), got \(hex.utf8.count)")
        }
    }

    // ASCII byte classes: references are ASCII by grammar, and byte checks avoid Unicode property lookups.
    static func isDigit(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) }
    static func isLetter(_ b: UInt8) -> Bool { (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) }
    static func isLowerHex(_ b: UInt8) -> Bool { isDigit(b) || (0x61...0x66).contains(b) }
    static func isWordChar(_ b: UInt8) -> Bool { isLetter(b) || isDigit(b) || b == UInt8(ascii: "_") }
    static func isAlnumLower(_ b: UInt8) -> Bool { isDigit(b) || (0x61...0x7A).contains(b) }

    static func isValidTag(_ t: String) -> Bool {
        let bytes = t.utf8
        guard let first = bytes.first, isWordChar(first), bytes.count <= tagLengthMax else { return false }
        return bytes.allSatisfy { isWordChar($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
    static func isValidPathComponent(_ s: Substring) -> Bool {
        let chars = Array(s.utf8)
        var i = 0
        func alnumRun() -> Bool {
            let start = i
            while i < chars.count, isAlnumLower(chars[i]) { i += 1 }
            return i > start
        }
        guard alnumRun() else { return false }
        while i < chars.count {
            switch chars[i] {
            case UInt8(ascii: "."): i += 1
            case UInt8(ascii: "_"): i += 1; if i < chars.count, chars[i] == UInt8(ascii: "_") { i += 1 }
            case UInt8(ascii: "-"): while i < chars.count, chars[i] == UInt8(ascii: "-") { i += 1 }
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
            guard !inner.isEmpty, inner.utf8.allSatisfy({ isDigit($0) || (0x61...0x66).contains($0) || (0x41...0x46).contains($0) || $0 == UInt8(ascii: ":") }),
                  inner.contains(":") else {
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
                let bytes = label.utf8
                guard let f = bytes.first, let l = bytes.last, isLetter(f) || isDigit(f), isLetter(l) || isDigit(l),
                      bytes.allSatisfy({ isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "-") })
                else { return "has an invalid host name" }
            }
        }
        if let p = port {
            guard !p.isEmpty, p.utf8.allSatisfy(isDigit) else { return "has an invalid port" }
        }
        return nil
    }
}
