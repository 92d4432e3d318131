import Foundation
import SwiftASN1
import X509

/// One RFC 6962 signed certificate timestamp from the leaf's embedded SCT list.
public struct SignedCertificateTimestamp: Sendable, Hashable {
    public var logID: Data
    public var timestamp: UInt64  // milliseconds since epoch
    public var extensions: Data
    public var hashAlgorithm: UInt8
    public var signatureAlgorithm: UInt8
    public var signature: Data
}

/// Verifies embedded SCTs (precertificate SCT list extension) against trusted CT log keys.
public struct SCTVerifier: Sendable {
    public static let sctListOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 11129, 2, 4, 2]
    public let ctlogs: [TransparencyLogInstance]

    public init(ctlogs: [TransparencyLogInstance]) { self.ctlogs = ctlogs }

    public func verify(leaf: FulcioCertificate, issuer: Certificate, threshold: Int = 1) throws {
        try verify(leaf: leaf, issuerKeyHash: try Self.keyHash(issuer), threshold: threshold)
    }

    /// SHA-256 of the issuer's SubjectPublicKeyInfo (RFC 6962 `issuer_key_hash`).
    static func keyHash(_ issuer: Certificate) throws -> Data { HashAlgorithm.sha256.hash(try issuer.publicKey.spkiDER()) }

    /// `keyHash` of certificates of trusted roots' chains (encoding a P-256 key is a field inversion).
    static let trustedIssuerKeyHashes = BoundedCache<Certificate, Data>(capacity: 64)

    func verify(leaf: FulcioCertificate, issuerKeyHash: Data, threshold: Int) throws {
        let scts = try Self.embeddedSCTs(leaf.certificate)
        guard !scts.isEmpty else { throw SigstoreError.sctMissing }
        let tbs = try Self.precertificateTBS(leaf.certificate)
        var verified = 0
        var failure: SigstoreError?
        for sct in scts {
            guard let log = ctlogs.first(where: { $0.logID == sct.logID }) else {
                failure = failure ?? .sctUnknownLog(sct.logID.base64EncodedString()); continue
            }
            let time = Date(timeIntervalSince1970: Double(sct.timestamp) / 1000)
            guard log.validFor.contains(time) else {
                failure = .sctInvalid("CT log key not valid at SCT time \(iso(time))"); continue
            }
            let signed = Self.signedData(sct: sct, issuerKeyHash: issuerKeyHash, tbs: tbs)
            if log.publicKey.verify(signature: sct.signature, data: signed) {
                verified += 1
            } else {
                failure = .sctInvalid("signature from log \(sct.logID.base64EncodedString()) does not verify")
            }
        }
        if verified < threshold { throw failure ?? SigstoreError.sctMissing }
    }

    /// RFC 6962 §3.2 digitally-signed input for a precert entry.
    static func signedData(sct: SignedCertificateTimestamp, issuerKeyHash: Data, tbs: [UInt8]) -> Data {
        var out = Data([0, 0])  // v1, certificate_timestamp
        out.append(contentsOf: withUnsafeBytes(of: sct.timestamp.bigEndian, Array.init))
        out.append(contentsOf: [0, 1])  // precert_entry
        out.append(issuerKeyHash)
        let n = tbs.count
        out.append(contentsOf: [UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)])
        out.append(contentsOf: tbs)
        out.append(contentsOf: [UInt8(sct.extensions.count >> 8 & 0xff), UInt8(sct.extensions.count & 0xff)])
        out.append(sct.extensions)
        return out
    }

    /// The leaf TBSCertificate re-encoded without the SCT list extension (what the CT log signed).
    static func precertificateTBS(_ cert: Certificate) throws -> [UInt8] {
        let root = try DER.parse(cert.tbsCertificateBytes)
        guard case .constructed(let fields) = root.content else { throw SigstoreError.malformedCertificate("TBSCertificate") }
        var serializer = DER.Serializer()
        try serializer.appendConstructedNode(identifier: .sequence) { coder in
            for field in fields {
                let extTag = ASN1Identifier(tagWithNumber: 3, tagClass: .contextSpecific)
                guard field.identifier == extTag else {
                    try coder.serialize(ASN1Any(derEncoded: field)); continue
                }
                // [3] EXPLICIT SEQUENCE OF Extension: drop the SCT list, keep the rest in order.
                guard case .constructed(let inner) = field.content, let seq = Array(inner).first,
                      case .constructed(let exts) = seq.content else {
                    throw SigstoreError.malformedCertificate("extensions")
                }
                try coder.appendConstructedNode(identifier: extTag) { coder in
                    try coder.appendConstructedNode(identifier: .sequence) { coder in
                        for ext in exts {
                            let e = try Certificate.Extension(derEncoded: ext)
                            if e.oid == sctListOID { continue }
                            try coder.serialize(ASN1Any(derEncoded: ext))
                        }
                    }
                }
            }
        }
        return serializer.serializedBytes
    }

    /// Parses the TLS-encoded SignedCertificateTimestampList inside the extension's OCTET STRING.
    static func embeddedSCTs(_ cert: Certificate) throws -> [SignedCertificateTimestamp] {
        guard let ext = cert.extensions.first(where: { $0.oid == sctListOID }) else { return [] }
        let list: ASN1OctetString
        do { list = try ASN1OctetString(derEncoded: ext.value) } catch {
            throw SigstoreError.sctInvalid("SCT list extension is not an OCTET STRING")
        }
        var r = TLSReader(Array(list.bytes))
        var scts: [SignedCertificateTimestamp] = []
        var all = try TLSReader(r.vector(lengthBytes: 2))
        guard r.atEnd else { throw SigstoreError.sctInvalid("trailing bytes after SCT list") }
        while !all.atEnd {
            var s = try TLSReader(all.vector(lengthBytes: 2))
            guard try s.int(1) == 0 else { throw SigstoreError.sctInvalid("unsupported SCT version") }
            let logID = Data(try s.bytes(32))
            let ts = try s.int(8)
            let exts = Data(try s.vector(lengthBytes: 2))
            let hashAlg = UInt8(try s.int(1))
            let sigAlg = UInt8(try s.int(1))
            let sig = Data(try s.vector(lengthBytes: 2))
            guard s.atEnd else { throw SigstoreError.sctInvalid("trailing bytes in SCT") }
            scts.append(SignedCertificateTimestamp(logID: logID, timestamp: ts, extensions: exts,
                                                   hashAlgorithm: hashAlg, signatureAlgorithm: sigAlg, signature: sig))
        }
        return scts
    }
}

/// Reader for TLS presentation-language structures (big-endian integers, length-prefixed vectors).
struct TLSReader {
    private let bytes: [UInt8]
    private var pos = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var atEnd: Bool { pos == bytes.count }

    mutating func bytes(_ n: Int) throws -> [UInt8] {
        guard n >= 0, bytes.count - pos >= n else { throw SigstoreError.sctInvalid("truncated SCT data") }
        defer { pos += n }
        return Array(bytes[pos..<pos + n])
    }
    mutating func int(_ n: Int) throws -> UInt64 {
        try bytes(n).reduce(0) { $0 << 8 | UInt64($1) }
    }
    mutating func vector(lengthBytes: Int) throws -> [UInt8] {
        try bytes(Int(int(lengthBytes)))
    }
}
