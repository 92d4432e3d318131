import Crypto
import Foundation

/// A signed note checkpoint (https://github.com/C2SP/C2SP/blob/main/signed-note.md, tlog-checkpoint.md).
public struct Checkpoint: Sendable, Hashable {
    public struct Signature: Sendable, Hashable {
        public var name: String
        public var keyHint: Data  // first 4 bytes of the key ID
        public var signature: Data
    }
    public var origin: String
    public var treeSize: Int64
    public var rootHash: Data
    public var otherContent: [String]
    public var signatures: [Signature]
    /// The signed text: every body line including its final newline.
    public var signedNote: Data

    public init(_ text: String) throws {
        guard let sep = text.range(of: "\n\n") else { throw SigstoreError.malformedCheckpoint("no blank line before signatures") }
        let body = String(text[..<sep.lowerBound]) + "\n"
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        guard lines.count >= 3 else { throw SigstoreError.malformedCheckpoint("need origin, size and root hash lines") }
        guard !lines[0].isEmpty, !lines[0].hasPrefix("\u{2014}") else { throw SigstoreError.malformedCheckpoint("missing origin") }
        guard lines[1].allSatisfy(\.isASCII), let size = Int64(lines[1]), size >= 0 else {
            throw SigstoreError.malformedCheckpoint("invalid tree size '\(lines[1])'")
        }
        guard let root = Data(base64Encoded: lines[2]), root.count == 32 else {
            throw SigstoreError.malformedCheckpoint("invalid root hash")
        }
        origin = lines[0]; treeSize = size; rootHash = root
        otherContent = Array(lines.dropFirst(3))
        signedNote = Data(body.utf8)

        var sigs: [Signature] = []
        for line in text[sep.upperBound...].split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0] == "\u{2014}", !parts[1].isEmpty,
                  let blob = Data(base64Encoded: String(parts[2])), blob.count > 4 else {
                throw SigstoreError.malformedCheckpoint("invalid signature line")
            }
            sigs.append(Signature(name: String(parts[1]), keyHint: blob.prefix(4), signature: blob.dropFirst(4)))
        }
        guard !sigs.isEmpty else { throw SigstoreError.malformedCheckpoint("no signatures") }
        signatures = sigs
    }

    /// Key hints a log key may appear under: Sigstore's log-ID prefix, and the signed-note
    /// key hash SHA-256(name || 0x0A || type || key) for Ed25519 (type 0x01) and ECDSA (type 0x02, DER SPKI).
    static func keyHints(name: String, log: TransparencyLogInstance) -> Set<Data> {
        var hints: Set<Data> = [log.logID.prefix(4), log.publicKey.keyID.prefix(4)]
        var material = Data(name.utf8) + Data([0x0A])
        if case .ed25519(let k) = log.publicKey.backing {
            material += Data([0x01]) + k.rawRepresentation
        } else {
            material += Data([0x02]) + log.publicKey.der
        }
        hints.insert(HashAlgorithm.sha256.hash(material).prefix(4))
        return hints
    }

    /// True if at least one signature line is a valid signature by the log's key; unknown witnesses are ignored.
    public func isSigned(by log: TransparencyLogInstance) -> Bool {
        signatures.contains { s in
            Self.keyHints(name: s.name, log: log).contains(Data(s.keyHint))
                && log.publicKey.verify(signature: Data(s.signature), data: signedNote)
        }
    }
}
