import Foundation
import ImageReference
import Registry
import ImagePolicy
import SigstoreVerify

/// Who must have signed: a public key, or Fulcio-issued certificates with one of these identities.
public enum CosignSigner: Sendable {
    case publicKey(PublicKey)
    /// Keyless. Trust comes from `CosignCheckOptions.trustedRoot` (its Fulcio CAs, or a custom CA put there).
    case keyless([CertificateIdentity])
}

/// What a cosign signature or attestation must satisfy (cosign `CheckOpts`).
public struct CosignCheckOptions: Sendable {
    public var signer: CosignSigner
    /// Fulcio CAs, Rekor and CT log keys, TSAs.
    public var trustedRoot: TrustedRoot
    /// `--insecure-ignore-tlog`: no Rekor entry required. An entry that is present and from a known log is still checked.
    public var ignoreTlog: Bool
    /// `--insecure-ignore-sct`: no embedded SCT required on keyless certificates.
    public var ignoreSCT: Bool
    /// `-a key=value`: every pair must be in the simple-signing payload's `optional` object.
    public var requiredAnnotations: [String: String]
    /// Where signatures live when not next to the image (`COSIGN_REPOSITORY`, policy `signatureRepository`):
    /// `registry/repository`.
    public var signatureRepository: String?
    /// The verifier's clock (certificates without a verified time are checked at `now`).
    public var now: Date
    /// Key-based only: the hash the signer used with its key (policy `hashAlgorithm`, cosign
    /// `--signature-digest-algorithm`); nil = SHA-256 (cosign's default) or the key's own default hash.
    public var hashAlgorithm: HashAlgorithm?
    /// Where signatures and attestations are looked up (policy `signatureFormat`).
    public var signatureFormat: SignatureFormat = .any
    /// Every signature must carry a verified RFC 3161 timestamp (policy `rfc3161timestamp`).
    public var requireSignedTimestamp = false

    public init(signer: CosignSigner, trustedRoot: TrustedRoot, ignoreTlog: Bool = false, ignoreSCT: Bool = false,
                requiredAnnotations: [String: String] = [:], signatureRepository: String? = nil, now: Date = Date()) {
        self.signer = signer
        self.trustedRoot = trustedRoot
        self.ignoreTlog = ignoreTlog
        self.ignoreSCT = ignoreSCT
        self.requiredAnnotations = requiredAnnotations
        self.signatureRepository = signatureRepository
        self.now = now
    }

    /// A copy of `root` whose Fulcio CAs are replaced by a custom CA chain (PEM, any order). cosign
    /// `--certificate-chain` / policy `ca-cert`: the chain's certificates are the trust anchors.
    public static func trustedRoot(_ root: TrustedRoot, replacingFulcioWith chainPEM: String) throws -> TrustedRoot {
        let certs = try Encoding.pem(chainPEM, label: "CERTIFICATE").map { try FulcioCertificate(der: $0.der).certificate }
        guard !certs.isEmpty else { throw CosignVerificationError.configuration("no CERTIFICATE in the CA chain PEM") }
        var out = root
        // Root last, as trusted_root.json lists it.
        let ordered = certs.filter { $0.subject != $0.issuer } + certs.filter { $0.subject == $0.issuer }
        out.certificateAuthorities = [CertificateAuthority(uri: "custom-ca", chain: ordered,
                                                           validFor: ValidityPeriod(start: Date(timeIntervalSince1970: 0)))]
        return out
    }
}

/// Which attachment scheme holds an image's signatures and attestations.
public enum SignatureFormat: Sendable, Hashable {
    /// cosign's tag scheme (`sha256-<hex>.sig` / `.att`), policy-controller `signatureFormat: legacy`.
    case legacy
    /// Sigstore bundles attached as OCI referrers (cosign v3, GitHub attestations), `signatureFormat: bundle`.
    case bundle
    /// Both (tag scheme first): `sealgate verify`, Kyverno.
    case any
}

/// Configuration problems (bad key, bad CA): not a property of the image.
public enum CosignVerificationError: Error, CustomStringConvertible, Sendable {
    case configuration(String)
    public var description: String {
        switch self { case .configuration(let s): return "configuration: \(s)" }
    }
}

/// Where a signature was found.
public enum SignatureSource: Sendable, Hashable, CustomStringConvertible {
    /// cosign tag scheme: `sha256-<hex>.sig` / `.att`, layer index.
    case tag(String, layer: Int)
    /// OCI referrer manifest holding a Sigstore bundle.
    case referrer(String)
    public var description: String {
        switch self {
        case .tag(let t, let l): return "tag \(t) layer \(l)"
        case .referrer(let d): return "referrer \(d)"
        }
    }
}

/// The verdict on one signature or attestation.
public struct SignatureCheck: Sendable {
    public var source: SignatureSource
    public var passed: Bool
    /// "verified", or the failed check.
    public var reason: String
    /// The failure was a registry problem (blob fetch timed out, ...).
    public var transient: Bool = false
    /// The verification step that rejected it.
    public var failedStep: VerificationStep?
    /// Signature: the simple-signing payload bytes. Attestation: the in-toto statement bytes.
    public var payload: Data?
    /// Attestations: the DSSE envelope JSON (what cosign prints).
    public var envelopeJSON: Data?
    public var simpleSigning: CosignSimpleSigningPayload?
    /// Attestations: the statement's predicate type.
    public var predicateType: String?
    /// Keyless signer facts.
    public var certificateSubject: String?
    public var certificateIssuer: String?
    public var certificateExtensions: [Int: String] = [:]
    /// Verified times (Rekor integrated time under a verified SET/proof, RFC 3161).
    public var verifiedTimes: [Date] = []
    public var rekorLogIndex: Int64?
    /// Bundle/tag format.
    public var format: String = "cosign"

    public init(source: SignatureSource, passed: Bool, reason: String) {
        self.source = source; self.passed = passed; self.reason = reason
    }
}

/// Everything learned about one image.
public struct ImageVerificationResult: Sendable {
    public var image: ImageRef
    public var digest: String
    /// Attestation checks: the resolved predicate type.
    public var predicateType: String?
    public var checks: [SignatureCheck]
    /// The lookup itself failed (listing signatures): registry error text.
    public var lookupError: String?
    public var lookupTransient = false

    public init(image: ImageRef, digest: String, predicateType: String? = nil, checks: [SignatureCheck] = []) {
        self.image = image; self.digest = digest; self.predicateType = predicateType; self.checks = checks
    }

    public var verified: [SignatureCheck] { checks.filter(\.passed) }
    public var passed: Bool { !verified.isEmpty }
    /// The furthest step any signature reached before it was rejected: the most telling failure.
    public var failedStep: VerificationStep? {
        guard !passed else { return nil }
        let order = VerificationStep.allCases
        return checks.compactMap(\.failedStep).max { order.firstIndex(of: $0)! < order.firstIndex(of: $1)! }
            ?? (lookupError != nil ? .lookup : nil)
    }

    /// Failed because of the registry rather than the signatures.
    public var transient: Bool {
        guard !passed else { return false }
        return lookupTransient || checks.contains(where: \.transient)
    }

    /// One line: what passed, or why nothing did (each signature and its reason).
    public var summary: String {
        let what = predicateType == nil ? "signature" : "attestation"
        let kind = predicateType.map { " of type \($0)" } ?? ""
        if passed {
            return "\(verified.count) \(what)\(verified.count == 1 ? "" : "s")\(kind) verified for \(image.name)@\(digest)"
        }
        var parts: [String] = []
        for (i, c) in checks.enumerated() { parts.append("\(what) \(i + 1) (\(c.source)): \(c.reason)") }
        if let lookupError { parts.append(lookupError) }
        if parts.isEmpty { return "no \(what)s\(kind) found for \(image.name)@\(digest)" }
        return "no \(what)\(kind) verified for \(image.name)@\(digest): " + parts.joined(separator: "; ")
    }
}
