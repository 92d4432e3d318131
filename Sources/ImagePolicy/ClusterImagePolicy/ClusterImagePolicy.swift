/// A validated sigstore policy-controller ClusterImagePolicy (`policy.sigstore.dev/v1alpha1|v1beta1`).
public struct ClusterImagePolicy: Sendable {
    public enum Mode: String, Sendable { case enforce, warn }

    public let name: String
    /// `ClusterImagePolicy/<name>`, as verdicts name the policy (made once here, not per image).
    public let verdictName: String
    public var apiVersion: String
    public var source: DocumentSource
    /// Image globs; an image is in scope if any glob matches.
    public var images: [ImageGlob]
    /// Any one authority passing admits the image (OR).
    public var authorities: [CIPAuthority]
    public var mode: Mode
    /// Resource types this policy applies to; empty means every resource.
    public var match: [CIPMatchResource]
    /// Spec-level CUE policy evaluated over the authorities' results.
    public var policy: CIPPolicy?

    public init(name: String, apiVersion: String, source: DocumentSource, images: [ImageGlob], authorities: [CIPAuthority],
                mode: Mode, match: [CIPMatchResource], policy: CIPPolicy?) {
        self.name = name
        verdictName = "ClusterImagePolicy/\(name)"
        self.apiVersion = apiVersion
        self.source = source
        self.images = images
        self.authorities = authorities
        self.mode = mode
        self.match = match
        self.policy = policy
    }
}

/// One `spec.authorities[]` entry.
public struct CIPAuthority: Sendable {
    public enum Kind: Sendable {
        /// `key` or `keyless`: a signature check done by the verifier.
        case signature(SignatureAuthority)
        /// `static`: passes or fails without looking at the image.
        case staticAction(pass: Bool, message: String?)
    }
    /// The authority's name (policy-controller defaults it to `authority-<index>`).
    public let name: String
    public let index: Int
    /// `authorities[<index>] (<name>)`, as verdict reasons name the check (made once here, not per image).
    public let checkLabel: String
    public var kind: Kind
    /// When present, signatures are not checked; instead each attestation must verify
    /// and satisfy its policy.
    public var attestations: [CIPAttestation]

    public init(name: String, index: Int, kind: Kind, attestations: [CIPAttestation]) {
        self.name = name
        self.index = index
        checkLabel = "authorities[\(index)] (\(name))"
        self.kind = kind
        self.attestations = attestations
    }
}

public struct CIPAttestation: Sendable {
    public var name: String
    /// As written (`vuln`, `spdxjson`, or a full URI).
    public var predicateType: String
    /// The in-toto predicate type URI the short name stands for.
    public var predicateTypeURI: String
    public var policy: CIPPolicy?
}

/// A `policy` block: only CUE is supported.
public struct CIPPolicy: Sendable {
    public var cue: CUEProgram
    public var includeSpec: Bool
    public var includeObjectMeta: Bool
    public var includeTypeMeta: Bool
    public var fetchConfigFile: Bool
}

public struct CIPMatchResource: Sendable, Hashable {
    public var group: String
    public var version: String
    public var resource: String
    public var selector: LabelSelector?
}

/// Where a document came from, for error messages.
public struct DocumentSource: Sendable, Hashable, CustomStringConvertible {
    public var file: String?
    public var documentIndex: Int
    public init(file: String?, documentIndex: Int) {
        self.file = file
        self.documentIndex = documentIndex
    }
    public var description: String { "\(file ?? "<input>"): document \(documentIndex)" }
}

/// Maps cosign's short predicate names to in-toto predicate type URIs (one table for policies and the CLI).
public enum PredicateTypes {
    public static let shortNames: [String: String] = [
        "custom": "https://cosign.sigstore.dev/attestation/v1",
        "slsaprovenance": "https://slsa.dev/provenance/v0.2",
        "slsaprovenance02": "https://slsa.dev/provenance/v0.2",
        "slsaprovenance1": "https://slsa.dev/provenance/v1",
        "spdx": "https://spdx.dev/Document",
        "spdxjson": "https://spdx.dev/Document",
        "cyclonedx": "https://cyclonedx.org/bom",
        "link": "https://in-toto.io/Link/v1",
        "vuln": "https://cosign.sigstore.dev/attestation/vuln/v1",
        "openvex": "https://openvex.dev/ns",
    ]
    public static func uri(for type: String) -> String { shortNames[type] ?? type }
}
