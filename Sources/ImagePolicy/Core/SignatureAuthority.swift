/// How a string from a policy is matched against a certificate field.
public enum StringMatcher: Sendable, Hashable, CustomStringConvertible {
    /// Exact string equality (policy-controller `issuer`/`subject`).
    case exact(String)
    /// Regular expression, matched against the whole value (`issuerRegExp`/`subjectRegExp`).
    case regex(String)
    /// Kyverno wildcard (`*`, `?`) over the whole value.
    case wildcard(String)

    public func matches(_ value: String) -> Bool {
        switch self {
        case .exact(let s): return s == value
        case .wildcard(let p): return Wildcard.match(pattern: p, value)
        case .regex(let r):
            // Go's regexp.MatchString is unanchored; policy-controller and Kyverno both use it.
            guard let re = try? Regex(r) else { return false }
            return value.contains(re)
        }
    }

    public var description: String {
        switch self {
        case .exact(let s): "\"\(s)\""
        case .regex(let r): "regexp \"\(r)\""
        case .wildcard(let w): "wildcard \"\(w)\""
        }
    }
}

/// One acceptable signer identity of a keyless (Fulcio) certificate.
public struct KeylessIdentity: Sendable, Hashable {
    public var issuer: StringMatcher?
    public var subject: StringMatcher?
    public init(issuer: StringMatcher?, subject: StringMatcher?) {
        self.issuer = issuer
        self.subject = subject
    }
}

/// Transparency log (Rekor) settings.
public struct TransparencyLogSettings: Sendable, Hashable {
    public var url: String?
    /// PEM public key of a custom log.
    public var publicKey: String?
    /// Skip transparency log verification entirely.
    public var ignore: Bool
    /// policy-controller `trustRootRef`.
    public var trustRootRef: String?
    public init(url: String? = nil, publicKey: String? = nil, ignore: Bool = false, trustRootRef: String? = nil) {
        self.url = url
        self.publicKey = publicKey
        self.ignore = ignore
        self.trustRootRef = trustRootRef
    }
}

/// Where trusted key material comes from.
public enum TrustSource: Sendable, Hashable {
    /// One or more PEM public keys (Kyverno expands multi-key PEM into one attestor per key).
    case publicKey(pem: String)
    /// A Kubernetes secret holding the key (`cosign.pub`).
    case secret(namespace: String?, name: String)
    /// A KMS URI. sealgate has no KMS client: a verifier should fail these with "KMS not supported".
    case kms(uri: String)
    /// Keyless: Fulcio-issued certificates, checked against these identities.
    case keyless(KeylessTrust)
    /// Kyverno `certificates`: a signing certificate and/or chain.
    case certificates(cert: String?, chain: String?)
    /// Docker Content Trust: trust data on a Notary v1 server (Connaisseur `notaryv1` validators).
    case notary(NotaryTrust)
}

public struct KeylessTrust: Sendable, Hashable {
    /// Fulcio URL (policy-controller `keyless.url`).
    public var fulcioURL: String?
    /// Custom CA: a PEM bundle (policy-controller `ca-cert.data`, Kyverno `roots`).
    public var rootsPEM: String?
    /// Custom CA from a secret (policy-controller `ca-cert.secretRef`).
    public var rootsSecret: SecretReference?
    /// Custom CA key from KMS (policy-controller `ca-cert.kms`): not supported by sealgate.
    public var rootsKMS: String?
    public var trustRootRef: String?
    /// Any one identity must match (OR).
    public var identities: [KeylessIdentity]
    /// Kyverno `additionalExtensions` (Fulcio extension name → wildcard).
    public var additionalExtensions: [String: String]
    public init(fulcioURL: String? = nil, rootsPEM: String? = nil, rootsSecret: SecretReference? = nil, rootsKMS: String? = nil,
                trustRootRef: String? = nil, identities: [KeylessIdentity] = [], additionalExtensions: [String: String] = [:]) {
        self.fulcioURL = fulcioURL
        self.rootsPEM = rootsPEM
        self.rootsSecret = rootsSecret
        self.rootsKMS = rootsKMS
        self.trustRootRef = trustRootRef
        self.identities = identities
        self.additionalExtensions = additionalExtensions
    }
}

public struct SecretReference: Sendable, Hashable {
    public var namespace: String?
    public var name: String
    public init(namespace: String?, name: String) {
        self.namespace = namespace
        self.name = name
    }
}

/// Everything a verifier needs to check one signer ("authority" in policy-controller,
/// one attestor entry in Kyverno). Dialect-neutral so one verifier serves both.
public struct SignatureAuthority: Sendable, Hashable {
    /// Human-readable location, e.g. `authorities[1] (keyless signatures)` or `attestors[0].entries[1]`.
    public var label: String
    public var trust: TrustSource
    /// `sha224|sha256|sha384|sha512`.
    public var hashAlgorithm: String
    /// Alternative repository holding signatures/attestations (CIP `source.oci`, Kyverno `repository`).
    public var signatureRepository: String?
    public var pullSecrets: [String]
    public var tlog: TransparencyLogSettings
    /// Skip the Signed Certificate Timestamp check.
    public var ignoreSCT: Bool
    public var ctlogPublicKey: String?
    /// RFC 3161 timestamp authority chain (PEM) or trust root reference.
    public var timestampAuthority: String?
    /// Kyverno attestor `annotations`: every pair must be present in the signed payload.
    public var requiredAnnotations: [String: String]
    /// Kyverno `type`: `Cosign` or `SigstoreBundle` (both looked up); policy-controller `signatureFormat`:
    /// `legacy` (cosign tag scheme only) or `bundle` (Sigstore bundles as OCI referrers only).
    public var signatureFormat: String
    /// policy-controller `rfc3161timestamp.trustRootRef`: RFC 3161 timestamp authorities from this TrustRoot; a
    /// verified timestamp is then required (and the transparency log is not, see `tlog.ignore`).
    public var timestampTrustRootRef: String?

    public init(label: String, trust: TrustSource, hashAlgorithm: String = "sha256", signatureRepository: String? = nil,
                pullSecrets: [String] = [], tlog: TransparencyLogSettings = .init(), ignoreSCT: Bool = false,
                ctlogPublicKey: String? = nil, timestampAuthority: String? = nil,
                requiredAnnotations: [String: String] = [:], signatureFormat: String = "Cosign", timestampTrustRootRef: String? = nil) {
        self.label = label
        self.trust = trust
        self.hashAlgorithm = hashAlgorithm
        self.signatureRepository = signatureRepository
        self.pullSecrets = pullSecrets
        self.tlog = tlog
        self.ignoreSCT = ignoreSCT
        self.ctlogPublicKey = ctlogPublicKey
        self.timestampAuthority = timestampAuthority
        self.requiredAnnotations = requiredAnnotations
        self.signatureFormat = signatureFormat
        self.timestampTrustRootRef = timestampTrustRootRef
    }
}
