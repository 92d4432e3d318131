import Foundation

/// Light structural checks of PEM material at load time (no crypto here: the verifier parses
/// keys for real). Catches garbage like `---somedata---` with a precise message.
enum PEM {
    struct Block { var label: String; var der: [UInt8] }

    /// Splits PEM text into blocks; nil if it is not well-formed PEM.
    static func blocks(_ text: String) -> [Block]? {
        var result: [Block] = []
        var label: String?
        var body = ""
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("-----BEGIN "), line.hasSuffix("-----") {
                guard label == nil else { return nil }
                label = String(line.dropFirst(11).dropLast(5))
                body = ""
            } else if line.hasPrefix("-----END "), line.hasSuffix("-----") {
                guard let l = label, String(line.dropFirst(9).dropLast(5)) == l,
                      let data = Data(base64Encoded: body) else { return nil }
                result.append(Block(label: l, der: Array(data)))
                label = nil
            } else {
                guard label != nil else { return nil }
                body += line
            }
        }
        guard label == nil, !result.isEmpty else { return nil }
        return result
    }

    /// nil when `text` holds at least one public key (SubjectPublicKeyInfo or PKCS#1 RSA), else why not.
    static func publicKeyProblem(_ text: String) -> String? {
        guard let blocks = blocks(text) else { return "not a PEM encoded public key" }
        for b in blocks {
            guard b.label == "PUBLIC KEY" || b.label == "RSA PUBLIC KEY" else {
                return "PEM block \"\(b.label)\" is not a public key"
            }
            guard isDERSequence(b.der) else { return "PEM block does not hold a DER encoded key" }
        }
        return nil
    }

    /// nil when `text` holds certificates (or public keys, as policy-controller's ca-cert also accepts keys).
    static func certificatesProblem(_ text: String) -> String? {
        guard let blocks = blocks(text) else { return "not PEM encoded certificates" }
        for b in blocks {
            guard ["CERTIFICATE", "PUBLIC KEY"].contains(b.label) else {
                return "PEM block \"\(b.label)\" is not a certificate"
            }
            guard isDERSequence(b.der) else { return "PEM block does not hold DER data" }
        }
        return nil
    }

    /// A DER SEQUENCE whose length covers exactly the buffer.
    static func isDERSequence(_ der: [UInt8]) -> Bool {
        guard der.count >= 2, der[0] == 0x30 else { return false }
        var length = Int(der[1]), header = 2
        if der[1] & 0x80 != 0 {
            let n = Int(der[1] & 0x7f)
            guard n >= 1, n <= 4, der.count >= 2 + n else { return false }
            length = der[2..<(2 + n)].reduce(0) { $0 << 8 | Int($1) }
            header = 2 + n
        }
        return header + length == der.count
    }
}
