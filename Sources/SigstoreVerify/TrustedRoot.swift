import Crypto
import Foundation
import X509

/// A closed time interval [start, end]; `end` nil means open-ended. Sigstore's TimeRange is inclusive at both ends.
public struct ValidityPeriod: Sendable, Hashable {
    public var start: Date
    public var end: Date?
    public init(start: Date, end: Date? = nil) { self.start = start; self.end = end }
    public func contains(_ t: Date) -> Bool { t >= start && (end.map { t <= $0 } ?? true) }
}

/// A Rekor or CT log: its key, ID (SHA-256 of the key, or the trusted root's keyId) and validity.
public struct TransparencyLogInstance: Sendable {
    public var baseURL: String
    public var logID: Data
    public var publicKey: PublicKey
    public var validFor: ValidityPeriod
    public init(baseURL: String, logID: Data, publicKey: PublicKey, validFor: ValidityPeriod) {
        self.baseURL = baseURL; self.logID = logID; self.publicKey = publicKey; self.validFor = validFor
    }
}

/// A Fulcio CA or a TSA: certificate chain (leaf/intermediate first, root last) and validity.
public struct CertificateAuthority: Sendable {
    public var uri: String
    public var chain: [Certificate]
    public var validFor: ValidityPeriod
    public init(uri: String, chain: [Certificate], validFor: ValidityPeriod) {
        self.uri = uri; self.chain = chain; self.validFor = validFor
    }
}

/// The `trusted_root.json` document (media type ...trustedroot+json;version=0.1 or 0.2).
public struct TrustedRoot: Sendable {
    public var tlogs: [TransparencyLogInstance]
    public var certificateAuthorities: [CertificateAuthority]
    public var ctlogs: [TransparencyLogInstance]
    public var timestampAuthorities: [CertificateAuthority]
    /// SHA-256 (hex) of the JSON it was read from: caches key verdicts by it. Empty when built in code.
    public var fingerprint = ""

    public init(tlogs: [TransparencyLogInstance], certificateAuthorities: [CertificateAuthority],
                ctlogs: [TransparencyLogInstance], timestampAuthorities: [CertificateAuthority]) {
        self.tlogs = tlogs; self.certificateAuthorities = certificateAuthorities
        self.ctlogs = ctlogs; self.timestampAuthorities = timestampAuthorities
    }

    static let mediaTypes: Set<String> = [
        "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "application/vnd.dev.sigstore.trustedroot+json;version=0.2",
        "application/vnd.dev.sigstore.trustedroot.v0.2+json",
    ]

    public init(json data: Data) throws {
        guard let obj = try? JSONSerialization.jsonObject(with: data), let root = obj as? [String: Any] else {
            throw SigstoreError.malformedTrustedRoot("not a JSON object")
        }
        let mediaType = root["mediaType"] as? String ?? ""
        guard Self.mediaTypes.contains(mediaType) else {
            throw SigstoreError.malformedTrustedRoot("unsupported media type '\(mediaType)'")
        }
        tlogs = try (root["tlogs"] as? [[String: Any]] ?? []).map(Self.log)
        ctlogs = try (root["ctlogs"] as? [[String: Any]] ?? []).map(Self.log)
        certificateAuthorities = try (root["certificateAuthorities"] as? [[String: Any]] ?? []).map(Self.authority)
        timestampAuthorities = try (root["timestampAuthorities"] as? [[String: Any]] ?? []).map(Self.authority)
        fingerprint = Encoding.hex(SHA256.hash(data: data))
    }

    /// The earliest end of validity after `now` among all keys and CAs: verdicts resting on this root
    /// must not outlive it.
    public func nextExpiry(after now: Date) -> Date? {
        let ends = (tlogs + ctlogs).compactMap(\.validFor.end) + (certificateAuthorities + timestampAuthorities).compactMap(\.validFor.end)
        return ends.filter { $0 > now }.min()
    }

    /// The embedded Sigstore public-good trusted root.
    public static func publicGood() throws -> TrustedRoot {
        guard let url = Foundation.Bundle.module.url(forResource: "trusted_root", withExtension: "json"),
              let data = try? Data(contentsOf: url) else {
            throw SigstoreError.malformedTrustedRoot("embedded trusted_root.json missing")
        }
        return try TrustedRoot(json: data)
    }

    public func tlog(id: Data) -> TransparencyLogInstance? { tlogs.first { $0.logID == id } }
    public func ctlog(id: Data) -> TransparencyLogInstance? { ctlogs.first { $0.logID == id } }

    // MARK: parsing

    static func validity(_ v: Any?, what: String) throws -> ValidityPeriod {
        guard let v = v as? [String: Any] else { throw SigstoreError.malformedTrustedRoot("\(what): missing validFor") }
        guard let s = v["start"] as? String else { throw SigstoreError.malformedTrustedRoot("\(what): validFor has no start") }
        guard let start = Encoding.rfc3339(s) else { throw SigstoreError.malformedTrustedRoot("\(what): bad validFor.start '\(s)'") }
        var end: Date?
        if let e = v["end"] as? String {
            guard let d = Encoding.rfc3339(e) else { throw SigstoreError.malformedTrustedRoot("\(what): bad validFor.end '\(e)'") }
            end = d
        }
        return ValidityPeriod(start: start, end: end)
    }

    static func log(_ obj: [String: Any]) throws -> TransparencyLogInstance {
        let url = obj["baseUrl"] as? String ?? ""
        guard let pk = obj["publicKey"] as? [String: Any],
              let raw = (pk["rawBytes"] as? String).flatMap(Encoding.base64) else {
            throw SigstoreError.malformedTrustedRoot("log \(url): missing publicKey.rawBytes")
        }
        let key: PublicKey
        do { key = try PublicKey(der: raw, keyDetails: pk["keyDetails"] as? String) } catch {
            throw SigstoreError.malformedTrustedRoot("log \(url): \(error)")
        }
        // protobuf-specs: a log key without validFor is valid at all times; one with validFor must give its start.
        let validity = pk["validFor"] == nil ? ValidityPeriod(start: .distantPast) : try validity(pk["validFor"], what: "log \(url)")
        let id = ((obj["logId"] as? [String: Any])?["keyId"] as? String).flatMap(Encoding.base64) ?? key.keyID
        return TransparencyLogInstance(baseURL: url, logID: id, publicKey: key, validFor: validity)
    }

    static func authority(_ obj: [String: Any]) throws -> CertificateAuthority {
        let uri = obj["uri"] as? String ?? ""
        let certs = (obj["certChain"] as? [String: Any])?["certificates"] as? [[String: Any]] ?? []
        guard !certs.isEmpty else { throw SigstoreError.malformedTrustedRoot("authority \(uri): empty certChain") }
        let chain = try certs.map { c -> Certificate in
            guard let der = (c["rawBytes"] as? String).flatMap(Encoding.base64),
                  let cert = try? Certificate(derEncoded: Array(der)) else {
                throw SigstoreError.malformedTrustedRoot("authority \(uri): bad certificate")
            }
            return cert
        }
        return CertificateAuthority(uri: uri, chain: chain, validFor: try validity(obj["validFor"], what: "authority \(uri)"))
    }
}
