/// A Kyverno `ImageValidatingPolicy` or `NamespacedImageValidatingPolicy` (policies.kyverno.io v1alpha1, v1beta1,
/// v1): which requests and images it applies to, the attestors and attestations its CEL validations may verify, and
/// what happens when a validation fails. Expressions are kept as source; `ImageValidatingEvaluator` compiles them.
public struct ImageValidatingPolicy: Sendable {
    public enum Action: String, Sendable, CaseIterable { case deny = "Deny", warn = "Warn", audit = "Audit" }
    public enum FailurePolicy: String, Sendable { case fail = "Fail", ignore = "Ignore" }

    /// A named CEL expression (`matchConditions`, `variables`, `images`).
    public struct NamedExpression: Sendable {
        public var name: String
        public var expression: String
    }

    /// One `matchConstraints.resourceRules` entry (Kubernetes `NamedRuleWithOperations`).
    public struct ResourceRule: Sendable {
        public var apiGroups: [String]
        public var apiVersions: [String]
        public var operations: [String]
        public var resources: [String]
        public var resourceNames: [String]
        /// `Cluster`, `Namespaced` or `*`.
        public var scope: String
    }

    public struct MatchConstraints: Sendable {
        public var resourceRules: [ResourceRule] = []
        public var excludeResourceRules: [ResourceRule] = []
        public var namespaceSelector: LabelSelector?
        public var objectSelector: LabelSelector?
    }

    /// `matchImageReferences`: a glob over the image reference or a CEL expression over `ref`.
    public enum ImageMatch: Sendable {
        case glob(String)
        case expression(String)
    }

    public struct Attestor: Sendable {
        public var name: String
        public var authority: SignatureAuthority
    }

    /// An in-toto attestation by predicate type.
    public struct Attestation: Sendable {
        public var name: String
        public var predicateType: String
    }

    public struct Validation: Sendable {
        public var expression: String
        public var message: String?
        public var messageExpression: String?
        public var reason: String?
    }

    public var name: String
    /// Set for NamespacedImageValidatingPolicy: it applies to that namespace's requests only.
    public var namespace: String?
    public var source: DocumentSource
    public var kind: String
    public var failurePolicy = FailurePolicy.fail
    public var validationActions: [Action] = []
    public var matchConstraints = MatchConstraints()
    public var matchConditions: [NamedExpression] = []
    public var matchImageReferences: [ImageMatch] = []
    public var images: [NamedExpression] = []
    public var attestors: [Attestor] = []
    public var attestations: [Attestation] = []
    public var variables: [NamedExpression] = []
    public var validations: [Validation] = []
    /// `validationConfigurations`: pin verified tags to digests, require digests, require a verdict.
    public var mutateDigest = true
    public var verifyDigest = true
    public var required = true
    /// Pod controllers whose pod templates the policy also checks (autogen); empty: none.
    public var autogenControllers: [String] = []
    /// `evaluation.admission.enabled`: false leaves admission requests alone (background scans only).
    public var admissionEnabled = true
    /// `credentials.secrets`: pull Secrets for the registry reads of this policy.
    public var pullSecrets: [String] = []
    /// `credentials.providers`: cloud credential providers (`amazon`, `azure`, `google`, `github`) its registry reads may use.
    public var credentialProviders: [String] = []

    /// `Kind/name` as reasons and reports name it.
    public var reference: String { namespace.map { "\(kind)/\($0)/\(name)" } ?? "\(kind)/\(name)" }
}
