import Crypto
import Foundation
import SigstoreVerify
import X509

/// A complete test Sigstore instance: Fulcio-like CA, CT log, Rekor-like log and TSA, plus writers for
/// `trusted_root.json` and bundles. Reusable for signing images/attestations: sign any payload bytes or DSSE payload.
public final class TestSigstore: @unchecked Sendable {
    public let fulcio: TestCertificateAuthority
    public let ctLog: TestCTLog
    public let rekor: TestRekorLog
    public let tsa: TestTSA
    public let validFrom: Date

    /// All authorities are valid for ten years from `validFrom`.
    public init(validFrom: Date = Date(timeIntervalSince1970: 1_700_000_000)) {
        self.validFrom = validFrom
        let until = validFrom.addingTimeInterval(10 * 365 * 86400)
        fulcio = TestCertificateAuthority(name: "fulcio", notBefore: validFrom, notAfter: until)
        ctLog = TestCTLog()
        rekor = TestRekorLog()
        tsa = TestTSA(notBefore: validFrom, notAfter: until)
    }

    // MARK: trusted root

    /// trusted_root.json trusting this instance (extra CAs/CT logs can be appended for negative tests).
    public func trustedRootJSON(extraCertificateAuthorities: [[Certificate]] = [], ctLogs: [SigningKey]? = nil) -> Data {
        let start = Self.rfc3339(validFrom)
        func key(_ k: SigningKey) -> [String: Any] {
            ["rawBytes": k.spkiDER.base64EncodedString(), "keyDetails": k.keyDetails, "validFor": ["start": start]]
        }
        func log(_ k: SigningKey, _ url: String) -> [String: Any] {
            ["baseUrl": url, "hashAlgorithm": "SHA2_256", "publicKey": key(k), "logId": ["keyId": k.logID.base64EncodedString()]]
        }
        func ca(_ chain: [Certificate], _ uri: String) -> [String: Any] {
            ["uri": uri, "certChain": ["certificates": chain.map { ["rawBytes": PEM.der($0).base64EncodedString()] }],
             "validFor": ["start": start]]
        }
        let obj: [String: Any] = [
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log(rekor.key, "https://rekor.sealgate.test")],
            "ctlogs": (ctLogs ?? [ctLog.key]).map { log($0, "https://ct.sealgate.test") },
            "certificateAuthorities": [ca(fulcio.chain, "https://fulcio.sealgate.test")]
                + extraCertificateAuthorities.map { ca($0, "https://other.sealgate.test") },
            "timestampAuthorities": [ca(tsa.chain, "https://tsa.sealgate.test")],
        ]
        return try! JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .prettyPrinted])
    }

    public func trustedRoot() throws -> TrustedRoot { try TrustedRoot(json: trustedRootJSON()) }

    // MARK: signing

    public struct Options {
        public var identity: TestIdentity = .githubWorkflow
        /// When the signature is made (certificate issued, entry integrated, timestamp taken).
        public var signingTime: Date
        /// Key to sign with; a fresh P-256 key by default (keyless).
        public var signingKey: SigningKey = .newP256()
        /// Keyless: embed a Fulcio certificate. false: key-based bundle (publicKey hint).
        public var keyless = true
        public var certificateLifetime: TimeInterval = 600
        /// Override certificate validity (e.g. expired-at-signing negative tests).
        public var certificateNotBefore: Date?
        public var issuingCA: TestCertificateAuthority?
        public var ctLog: TestCTLog?
        public var leafIsCA = false
        public var tlog = true
        public var rfc3161 = false
        public init(signingTime: Date) { self.signingTime = signingTime }
    }

    /// Output of a signing operation: bundle JSON plus the pieces cosign stores in OCI annotations.
    public struct Signed {
        public var bundleJSON: Data
        public var signature: Data
        public var certificate: Certificate?
        public var tlogEntry: TransparencyLogEntry?
        public var rfc3161Timestamp: Data?
        public var envelope: DSSEEnvelope?
        /// cosign `dev.sigstore.cosign/bundle` annotation value.
        public var cosignRekorBundle: Data? { tlogEntry.map(TestRekorLog.cosignBundleAnnotation) }
    }

    public func options(at time: Date) -> Options {
        var o = Options(signingTime: time); o.ctLog = ctLog; return o
    }

    /// Signs arbitrary payload bytes (a blob, or a cosign simple-signing payload) as a message-signature bundle.
    public func signBlob(_ payload: Data, _ o: Options) -> Signed {
        let signature = o.signingKey.sign(payload)
        let digest = Data(SHA256.hash(data: payload))
        let cert = o.keyless ? leaf(o) : nil
        let body: [String: Any] = [
            "apiVersion": "0.0.1", "kind": "hashedrekord",
            "spec": ["data": ["hash": ["algorithm": "sha256", "value": hex(digest)]],
                     "signature": ["content": signature.base64EncodedString(),
                                   "publicKey": ["content": Data(verifierPEM(cert, o).utf8).base64EncodedString()]]],
        ]
        let entry = o.tlog ? rekor.append(body: canonical(body), kind: "hashedrekord", version: "0.0.1", integratedTime: o.signingTime) : nil
        let ts = o.rfc3161 ? tsa.timestamp(signature, at: o.signingTime) : nil
        let content: [String: Any] = ["messageSignature": [
            "messageDigest": ["algorithm": "SHA2_256", "digest": digest.base64EncodedString()],
            "signature": signature.base64EncodedString()]]
        return Signed(bundleJSON: bundle(content, cert: cert, o: o, entry: entry, ts: ts), signature: signature,
                      certificate: cert, tlogEntry: entry, rfc3161Timestamp: ts, envelope: nil)
    }

    /// Signs a DSSE payload (e.g. an in-toto statement) and logs it as a dsse 0.0.1 entry.
    public func signDSSE(payload: Data, payloadType: String = "application/vnd.in-toto+json", _ o: Options) -> Signed {
        let signature = o.signingKey.sign(DSSEEnvelope.pae(payloadType: payloadType, payload: payload))
        let env = DSSEEnvelope(payloadType: payloadType, payload: payload, signatures: [.init(sig: signature)])
        let cert = o.keyless ? leaf(o) : nil
        let envJSON = try! JSONSerialization.data(withJSONObject: env.jsonObject(), options: [.sortedKeys])
        let body: [String: Any] = [
            "apiVersion": "0.0.1", "kind": "dsse",
            "spec": ["envelopeHash": ["algorithm": "sha256", "value": hex(Data(SHA256.hash(data: envJSON)))],
                     "payloadHash": ["algorithm": "sha256", "value": hex(Data(SHA256.hash(data: payload)))],
                     "signatures": [["signature": signature.base64EncodedString(),
                                     "verifier": Data(verifierPEM(cert, o).utf8).base64EncodedString()]]],
        ]
        let entry = o.tlog ? rekor.append(body: canonical(body), kind: "dsse", version: "0.0.1", integratedTime: o.signingTime) : nil
        let ts = o.rfc3161 ? tsa.timestamp(signature, at: o.signingTime) : nil
        return Signed(bundleJSON: bundle(["dsseEnvelope": env.jsonObject()], cert: cert, o: o, entry: entry, ts: ts),
                      signature: signature, certificate: cert, tlogEntry: entry, rfc3161Timestamp: ts, envelope: env)
    }

    /// An in-toto v1 statement with one sha256 subject.
    public static func inTotoStatement(subjectName: String, sha256: Data, predicateType: String = "https://slsa.dev/provenance/v1") -> Data {
        let obj: [String: Any] = [
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [["name": subjectName, "digest": ["sha256": sha256.map { String(format: "%02x", $0) }.joined()]]],
            "predicateType": predicateType, "predicate": ["buildType": "https://sealgate.test/build"],
        ]
        return try! JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
    }

    // MARK: helpers

    func leaf(_ o: Options) -> Certificate {
        let nb = o.certificateNotBefore ?? o.signingTime.addingTimeInterval(-1)
        return (o.issuingCA ?? fulcio).issueFulcioLeaf(
            publicKey: o.signingKey.certificatePublicKey, identity: o.identity,
            notBefore: nb, notAfter: nb.addingTimeInterval(o.certificateLifetime), ctLog: o.ctLog, asCA: o.leafIsCA)
    }

    func verifierPEM(_ cert: Certificate?, _ o: Options) -> String {
        cert.map(PEM.certificate) ?? o.signingKey.publicKeyPEM
    }

    func bundle(_ content: [String: Any], cert: Certificate?, o: Options, entry: TransparencyLogEntry?, ts: Data?) -> Data {
        var vm: [String: Any] = [:]
        if let cert { vm["certificate"] = ["rawBytes": PEM.der(cert).base64EncodedString()] } else {
            vm["publicKey"] = ["hint": o.signingKey.logID.base64EncodedString()]
        }
        vm["tlogEntries"] = entry.map { [Self.entryJSON($0)] } ?? []
        if let ts { vm["timestampVerificationData"] = ["rfc3161Timestamps": [["signedTimestamp": ts.base64EncodedString()]]] }
        var obj = content
        obj["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.3+json"
        obj["verificationMaterial"] = vm
        return try! JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
    }

    public static func entryJSON(_ e: TransparencyLogEntry) -> [String: Any] {
        var o: [String: Any] = [
            "logIndex": String(e.logIndex), "logId": ["keyId": e.logID.base64EncodedString()],
            "kindVersion": ["kind": e.kind, "version": e.version],
            "canonicalizedBody": e.canonicalizedBody.base64EncodedString(),
        ]
        if let t = e.integratedTime { o["integratedTime"] = String(t) }
        if let s = e.signedEntryTimestamp { o["inclusionPromise"] = ["signedEntryTimestamp": s.base64EncodedString()] }
        if let p = e.inclusionProof {
            var proof: [String: Any] = ["logIndex": String(p.logIndex), "treeSize": String(p.treeSize),
                                        "rootHash": p.rootHash.base64EncodedString(), "hashes": p.hashes.map { $0.base64EncodedString() }]
            if let cp = p.checkpoint { proof["checkpoint"] = ["envelope": cp] }
            o["inclusionProof"] = proof
        }
        return o
    }

    func canonical(_ o: [String: Any]) -> Data {
        try! JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    func hex(_ d: Data) -> String { d.map { String(format: "%02x", $0) }.joined() }

    static func rfc3339(_ d: Date) -> String {
        let f = ISO8601DateFormatter(); f.formatOptions = [.withInternetDateTime]; return f.string(from: d)
    }
}
