/// IP addresses and CIDR prefixes for the network extension, parsed strictly (as Kubernetes' CEL
/// library does): IPv4 in dotted decimal without leading zeros, IPv6 without zones, and no
/// dotted IPv4-mapped IPv6 form.
struct IPAddress: CELOpaqueValue, Hashable {
    /// 4 bytes for IPv4, 16 for IPv6.
    let bytes: [UInt8]

    var celType: CELType { .ip }
    var isIPv4: Bool { bytes.count == 4 }
    /// An IPv4-mapped IPv6 address as its IPv4 address, for comparisons.
    var unmapped: IPAddress {
        if bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
            return IPAddress(bytes: Array(bytes[12...]))
        }
        return self
    }

    func isEqual(to other: any CELOpaqueValue) -> Bool {
        guard let o = other as? IPAddress else { return false }
        return unmapped.bytes == o.unmapped.bytes
    }

    static func parse(_ text: String) throws -> IPAddress {
        if text.contains("%") { throw CELError.eval("IP Address with zone value is not allowed") }
        if text.contains(":") {
            if text.contains(".") { throw CELError.eval("IPv4-mapped IPv6 address is not allowed") }
            guard let b = parseIPv6(text) else { throw CELError.eval("IP Address '\(text)' parse error during conversion from string") }
            return IPAddress(bytes: b)
        }
        guard let b = parseIPv4(text) else { throw CELError.eval("IP Address '\(text)' parse error during conversion from string") }
        return IPAddress(bytes: b)
    }

    static func parseIPv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0.isASCII && $0.isNumber }), p == "0" || !p.hasPrefix("0"),
                  let v = UInt8(p) else { return nil }
            out.append(v)
        }
        return out
    }

    static func parseIPv6(_ text: String) -> [UInt8]? {
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ s: String) -> [UInt16]? {
            if s.isEmpty { return [] }
            var out: [UInt16] = []
            for g in s.split(separator: ":", omittingEmptySubsequences: false) {
                guard !g.isEmpty, g.count <= 4, let v = UInt16(g, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count <= 7 else { return nil }
            all += Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }

    /// Dotted decimal, or RFC 5952 IPv6 text (lowercase, the longest run of zero groups as "::").
    var description: String {
        if isIPv4 { return bytes.map { String($0) }.joined(separator: ".") }
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        var bestStart = -1, bestLength = 0, i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8, groups[j] == 0 { j += 1 }
                if j - i > bestLength, j - i >= 2 { bestStart = i; bestLength = j - i }
                i = j
            } else {
                i += 1
            }
        }
        let text = groups.map { String($0, radix: 16) }
        if bestStart < 0 { return text.joined(separator: ":") }
        return text[..<bestStart].joined(separator: ":") + "::" + text[(bestStart + bestLength)...].joined(separator: ":")
    }

    var isUnspecified: Bool { bytes.allSatisfy { $0 == 0 } }
    var isLoopback: Bool {
        let a = unmapped
        return a.isIPv4 ? a.bytes[0] == 127 : a.bytes == Array(repeating: 0, count: 15) + [1]
    }
    var isMulticast: Bool { let a = unmapped; return a.isIPv4 ? a.bytes[0] & 0xf0 == 0xe0 : a.bytes[0] == 0xff }
    var isLinkLocalMulticast: Bool {
        let a = unmapped
        return a.isIPv4 ? (a.bytes[0] == 224 && a.bytes[1] == 0 && a.bytes[2] == 0) : (a.bytes[0] == 0xff && a.bytes[1] & 0x0f == 0x02)
    }
    var isLinkLocalUnicast: Bool {
        let a = unmapped
        return a.isIPv4 ? (a.bytes[0] == 169 && a.bytes[1] == 254) : (a.bytes[0] == 0xfe && a.bytes[1] & 0xc0 == 0x80)
    }
    var isGlobalUnicast: Bool {
        let a = unmapped
        if a.isIPv4, a.bytes == [255, 255, 255, 255] { return false }
        return !a.isUnspecified && !a.isLoopback && !a.isMulticast && !a.isLinkLocalUnicast
    }

    /// The first `bits` bits kept, the rest zero.
    func masked(_ bits: Int) -> IPAddress {
        var out = bytes
        for i in 0..<out.count {
            let keep = max(0, min(8, bits - i * 8))
            out[i] &= keep == 8 ? 0xff : ~(0xff >> UInt8(keep))
        }
        return IPAddress(bytes: out)
    }
}

struct CIDRPrefix: CELOpaqueValue, Hashable {
    let address: IPAddress
    let length: Int

    var celType: CELType { .cidr }
    var description: String { "\(address)/\(length)" }

    func isEqual(to other: any CELOpaqueValue) -> Bool {
        guard let o = other as? CIDRPrefix else { return false }
        return address.bytes == o.address.bytes && length == o.length
    }

    static func parse(_ text: String) throws -> CIDRPrefix {
        if text.contains("%") { throw CELError.eval("CIDR with zone value is not allowed") }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw CELError.eval("network address parse error during conversion from string: '\(text)'") }
        if parts[0].contains(":") && parts[0].contains(".") { throw CELError.eval("IPv4-mapped IPv6 address is not allowed") }
        let address = try? IPAddress.parse(String(parts[0]))
        guard let address, let length = Int(parts[1]), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
              length >= 0, length <= address.bytes.count * 8 else {
            throw CELError.eval("network address parse error during conversion from string: '\(text)'")
        }
        return CIDRPrefix(address: address, length: length)
    }

    func contains(_ ip: IPAddress) -> Bool {
        ip.bytes.count == address.bytes.count && ip.masked(length).bytes == address.masked(length).bytes
    }

    func contains(_ other: CIDRPrefix) -> Bool {
        other.length >= length && contains(other.address)
    }
}
