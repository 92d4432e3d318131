import ImagePolicy
import ImageReference

/// Resolves a tag to the digest it names now (the registry's job; a protocol so tests and
/// offline replays can supply their own).
public protocol DigestResolver: Sendable {
    func digest(of image: ImageRef, deadline: Deadline) async throws -> String
}

/// Errors that may clear up on retry (registry down, timeout, 429) say so.
public protocol TransientError: Error {
    var isTransient: Bool { get }
}

/// How decisions are made and answered: modes, unmatched images, pinning, failure policy.
public struct AdmissionSettings: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        /// Deny what fails.
        case enforce
        /// Allow, and tell the client (kubectl shows warnings).
        case warn
        /// Allow silently; record what would have been denied (log, metrics, audit file).
        case audit
    }

    /// What happens to an image no policy covers.
    public enum NoMatch: String, Sendable, CaseIterable { case allow, warn, deny }

    /// How verified images are pinned by the mutating webhook.
    public enum Pinning: String, Sendable, CaseIterable {
        /// `repo:tag@sha256:…` (the tag stays readable).
        case tagDigest = "tag-digest"
        /// `repo@sha256:…`.
        case digest
        /// Never patch (validate only).
        case none
    }

    /// Which workloads /mutate pins.
    public enum PinScope: String, Sendable, CaseIterable {
        /// Every matched workload (policy-controller's behaviour).
        case all
        /// Pods only: controllers stay as written, so GitOps tools see no drift; their Pods are still pinned.
        case pods
        /// Never patch; /validate denies matched images referenced by tag (use the digest it names).
        case requireDigest = "require-digest"
    }

    public var mode = Mode.enforce
    public var noMatch = NoMatch.allow
    public var pinning = Pinning.tagDigest
    public var pinScope = PinScope.all
    /// When verification cannot finish (timeout, registry unreachable): false denies (fail closed).
    public var failOpen = false
    /// Answer this long before the API server's timeout.
    public var deadlineMargin = 0.5

    public init() {}
}

/// What was decided for one image of a request.
public struct ImageDecision: Sendable {
    public var image: String
    public var pointers: [String]
    public var decision: Decision
    public var digest: String?
    public var pinned: String?
    public var reasons: [String]
    public var transient: Bool
    /// A Kyverno rule verified this image (recorded in the `kyverno.io/verify-images` annotation).
    public var kyvernoVerified = false
    /// The checks admission made itself, around the policies: reference, match, resolve, deadline, digest pinning.
    public var admissionChecks: [CheckRecord] = []
    /// The per-policy/rule verdicts behind `decision` (policy test and report tools map them to rule results).
    public var verdicts: [PolicyVerdict] = []

    /// Every check behind the decision (structured reasons): one record per policy check, then admission's own.
    /// Built when asked (explain, audit, test reports), not for every image the server admits.
    public var checks: [CheckRecord] {
        verdicts.flatMap { p in
            p.reasons.map { r in
                CheckRecord(image: image, policy: r.policy, rule: p.rule, authority: r.check, check: r.kind.rawValue,
                            result: r.passed ? "pass" : "fail", transient: r.transient, detail: r.detail, step: r.step?.rawValue)
            }
        } + admissionChecks
    }
}

/// One check of one policy for one image, as logs, audit records and `sealgate explain` report it.
public struct CheckRecord: Sendable, Codable, Equatable {
    public var image: String
    public var policy: String
    /// Kyverno rule (nil for ClusterImagePolicy).
    public var rule: String?
    /// Where in the policy: `authorities[0] (name)`, `rule: attestors[0]`, `spec.policy`, ...
    public var authority: String
    /// signature, attestation, condition, static, digest, skip, summary, or resolve/match for admission-level checks.
    public var check: String
    /// pass or fail.
    public var result: String
    public var transient: Bool
    public var detail: String
    /// The verification step that rejected (`tlog`, `certificate`, `identity`, ...; see `VerificationStep`).
    public var step: String?

    public init(image: String, policy: String, rule: String? = nil, authority: String, check: String, result: String,
                transient: Bool, detail: String, step: String? = nil) {
        self.step = step
        self.image = image
        self.policy = policy
        self.rule = rule
        self.authority = authority
        self.check = check
        self.result = result
        self.transient = transient
        self.detail = detail
    }
}

/// One container image in an admitted object, with the JSON pointer of its `image` field.
public struct ContainerImage: Sendable, Equatable {
    public var image: String
    /// RFC 6901 pointer, e.g. `/spec/template/spec/containers/0/image`.
    public var pointer: String
    /// `containers`, `initContainers` or `ephemeralContainers` (a Kyverno extractor's name for custom locations).
    public var list: String
    public var name: String

    public init(image: String, pointer: String, list: String, name: String) {
        self.image = image; self.pointer = pointer; self.list = list; self.name = name
    }
}
