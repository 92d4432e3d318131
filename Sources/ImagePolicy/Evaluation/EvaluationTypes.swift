import Foundation
import ImageReference

/// What is being admitted, as far as policy matching needs.
public struct AdmissionContext: Sendable {
    /// Kind, e.g. `Pod`, `Deployment`.
    public var kind: String
    /// API group (`""` for core, `apps`, ...).
    public var group: String
    public var version: String
    /// Plural resource name (`pods`, `deployments`), used by ClusterImagePolicy `match`.
    public var resource: String
    public var namespace: String?
    public var name: String
    public var labels: [String: String]
    public var annotations: [String: String]
    public var namespaceLabels: [String: String]
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    public var operation: String
    /// The admitted object (for CUE `includeSpec`/`includeObjectMeta` and Kyverno `request.object`), parsed from
    /// the request's bytes only when a policy reads it.
    public var lazyObject: LazyJSON?
    public var object: JSONValue? {
        get { lazyObject?.value }
        set { lazyObject = newValue.map(LazyJSON.init) }
    }
    /// Who sends the request (AdmissionReview `request.userInfo`); nil when unknown (background scans, `test`
    /// without a userinfo file): Kyverno then ignores `subjects` in `match` (an `exclude` by subject never applies).
    public var user: RequestUser?
    /// Kyverno variables by dotted name (`kyverno test` values: globalValues), merged into the JMESPath root.
    public var variables: [String: JSONValue] = [:]
    /// Per Kyverno policy name: variables for this resource (values `policies[].resources[].values`), over `variables`;
    /// under `policy/rule`: that rule's values (`policies[].rules[].values`), over both.
    public var policyVariables: [String: [String: JSONValue]] = [:]
    /// Images the standard pod-spec extraction found (nil: not known, every image counts as one). Kyverno rules
    /// with `imageExtractors` for the kind verify only what their extractors find; other rules only these.
    public var standardImages: Set<String>?

    public init(kind: String, group: String = "", version: String = "v1", resource: String, namespace: String? = nil,
                name: String, labels: [String: String] = [:], annotations: [String: String] = [:],
                namespaceLabels: [String: String] = [:], operation: String = "CREATE", object: JSONValue? = nil) {
        self.kind = kind
        self.group = group
        self.version = version
        self.resource = resource
        self.namespace = namespace
        self.name = name
        self.labels = labels
        self.annotations = annotations
        self.namespaceLabels = namespaceLabels
        self.operation = operation
        self.object = object
    }
}

/// The verifier's answer for one authority / attestor.
/// The step of signature verification that rejected, in the order the checks run: carried from the verifier
/// to check records, `explain` and deny messages so they name the check, not just its text.
public enum VerificationStep: String, Sendable, Codable, CaseIterable {
    /// Listing or fetching signatures from the registry.
    case lookup
    /// The authority could not be turned into a verifier (bad key, missing secret, KMS).
    case configuration
    /// A malformed layer, annotation, bundle or envelope.
    case format
    /// cosign's payload checks: image digest, payload type, required annotations.
    case payload
    /// An attestation's subject or predicate type.
    case subject
    case signature
    case transparencyLog = "tlog"
    case timestamp
    /// Fulcio chain at the signing time, code-signing leaf.
    case certificate
    case sct
    case identity
}

public struct AuthorityOutcome: Sendable {
    public var passed: Bool
    /// Why it failed (or a short note on success).
    public var reason: String
    /// A network/registry problem rather than a verification failure (Kyverno reports these as errors).
    public var transient: Bool
    /// For attestation checks: the verified in-toto statements (whole statement: `_type`,
    /// `predicateType`, `subject`, `predicate`) of the requested predicate type.
    public var statements: [JSONValue]
    /// Optional details of the verified signatures (e.g. `{"subject":..., "issuer":...}`), exposed to CUE spec policies.
    public var signatures: [JSONValue]
    /// The furthest verification step a signature reached before it was rejected (nil when passed or unknown).
    public var failedStep: VerificationStep?

    public init(passed: Bool, reason: String = "", transient: Bool = false, statements: [JSONValue] = [], signatures: [JSONValue] = []) {
        self.passed = passed
        self.reason = reason
        self.transient = transient
        self.statements = statements
        self.signatures = signatures
    }

    public static func pass(_ note: String = "verified", signatures: [JSONValue] = []) -> AuthorityOutcome {
        AuthorityOutcome(passed: true, reason: note, signatures: signatures)
    }
    public static func fail(_ reason: String, transient: Bool = false, step: VerificationStep? = nil) -> AuthorityOutcome {
        var o = AuthorityOutcome(passed: false, reason: reason, transient: transient)
        o.failedStep = step
        return o
    }
}

/// Does the crypto and registry I/O for the evaluator. Implemented outside this module
/// (Registry + SigstoreVerify); tests use fakes. KMS-backed authorities never reach it:
/// the evaluator fails them with "KMS not supported".
public protocol AuthorityVerifier: Sendable {
    /// Verify that `image@digest` carries a signature trusted by `authority`.
    func verifySignature(image: ImageRef, digest: String, authority: SignatureAuthority) async -> AuthorityOutcome

    /// Verify attestations of `predicateType` (an in-toto URI) signed by `authority`
    /// (nil: any signer, Kyverno attestations without attestors) and return their statements.
    func verifyAttestations(image: ImageRef, digest: String, authority: SignatureAuthority?, predicateType: String) async -> AuthorityOutcome

    /// The trust material an answer for `authority` rests on besides the authority itself (trust root,
    /// keys read from secrets), so caches can key by its content and expire with it.
    func material(for authority: SignatureAuthority?) -> VerificationMaterial
}

extension AuthorityVerifier {
    public func material(for authority: SignatureAuthority?) -> VerificationMaterial { VerificationMaterial() }
}

/// Content hash of the trust material behind a verification and the time it stops being valid.
public struct VerificationMaterial: Sendable, Hashable {
    public var fingerprint: String
    public var expires: Date?
    public init(fingerprint: String = "", expires: Date? = nil) {
        self.fingerprint = fingerprint
        self.expires = expires
    }
}

public enum Decision: String, Sendable, Comparable, CaseIterable {
    case skip, pass, warn, fail
    var rank: Int { switch self { case .skip: 0; case .pass: 1; case .warn: 2; case .fail: 3 } }
    public static func < (a: Decision, b: Decision) -> Bool { a.rank < b.rank }
}

/// One finding: which policy/rule, which check (authority or attestor), and what happened.
public struct VerdictReason: Sendable, Hashable, CustomStringConvertible {
    /// What sort of check a reason reports (for structured reasons and `explain`).
    public enum Kind: String, Sendable, Hashable, Codable {
        case signature, attestation, condition, `static`, digest, skip, summary
    }

    public var policy: String
    /// Where in the policy: `authorities[0] (name)`, `rule: attestors[0]`, `spec.policy`, ...
    public var check: String
    public var detail: String
    public var passed: Bool
    public var kind: Kind = .summary
    /// Failed for a reason that may clear up on retry (registry unreachable, timeout, 429).
    public var transient = false
    /// The verification step that rejected (signature and attestation checks).
    public var step: VerificationStep?
    public var description: String { "\(policy): \(check): \(stepLabel)\(detail)" }
    /// `[tlog] ` before a failed check's detail: deny messages and `explain` name the step that rejected.
    public var stepLabel: String { step.map { "[\($0.rawValue)] " } ?? "" }
}

/// Verdict of one ClusterImagePolicy or one Kyverno rule for one image.
public struct PolicyVerdict: Sendable {
    /// `ClusterImagePolicy/<name>` or `ClusterPolicy/<name>` (`Policy/<ns>/<name>`).
    public var policy: String
    /// Kyverno rule name (and `verifyImages[i]`), nil for ClusterImagePolicy.
    public var rule: String?
    public var decision: Decision
    public var reasons: [VerdictReason]
    /// Failure caused by a transient error (registry unreachable, ...).
    public var transient: Bool
    /// Whether this policy wants the image pinned to its digest.
    public var pinsDigest: Bool
}

/// The outcome for one image across all policies.
public struct ImageVerdict: Sendable {
    public var image: ImageRef
    public var digest: String
    /// fail if any policy fails; else warn if any warns; else pass if any passes; skip if none applied.
    public var decision: Decision
    public var policies: [PolicyVerdict]
    /// Set when a passing policy asks to pin: the reference to write back into the resource
    /// (the image as written, with `@digest`). nil when no change is needed.
    public var pinnedReference: String?
    public var reasons: [VerdictReason] { policies.flatMap(\.reasons) }
}
