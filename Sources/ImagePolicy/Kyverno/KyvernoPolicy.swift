/// A validated Kyverno `ClusterPolicy`/`Policy` (kyverno.io/v1 or v2beta1) holding `verifyImages` rules.
public struct KyvernoPolicy: Sendable {
    public enum FailureAction: String, Sendable { case audit = "Audit", enforce = "Enforce" }
    public enum FailurePolicy: String, Sendable { case fail = "Fail", ignore = "Ignore" }

    public var name: String
    /// Set for a namespaced `Policy`; it then only applies to resources in that namespace.
    public var namespace: String?
    public var kind: String
    public var apiVersion: String
    public var source: DocumentSource
    public var background: Bool
    public var failurePolicy: FailurePolicy
    public var webhookTimeoutSeconds: Int?
    /// `spec.validationFailureAction` (CRD default Audit).
    public var validationFailureAction: FailureAction
    /// Controllers Pod rules are auto-generated for (`pod-policies.kyverno.io/autogen-controllers`).
    public var autogenControllers: Set<String>
    public var rules: [KyvernoRule]

    /// Display name: `ns/name` for a namespaced Policy.
    public var qualifiedName: String { namespace.map { "\($0)/\(name)" } ?? name }
}

public struct KyvernoRule: Sendable {
    public var name: String
    public var match: KyvernoMatch
    public var exclude: KyvernoMatch?
    /// Custom image locations per kind: for a kind listed here the rule verifies only what these find.
    public var imageExtractors: [String: [KyvernoImageExtractor]]
    public var verifyImages: [KyvernoImageVerification]
    /// Rule preconditions over the admission request (`{{ request.object... }}`); the rule
    /// applies only when they hold.
    public var preconditions: KyvernoAnyAllConditions?
}

public struct KyvernoImageExtractor: Sendable, Hashable {
    public var path: String
    public var value: String?
    public var name: String?
    public var key: String?
    public var jmesPath: String?
}

public struct KyvernoImageVerification: Sendable {
    public enum SignatureType: String, Sendable { case cosign = "Cosign", sigstoreBundle = "SigstoreBundle" }
    /// Effective failure action (`failureAction`, else the policy's `validationFailureAction`).
    public var failureAction: KyvernoPolicy.FailureAction
    public var type: SignatureType
    public var imageReferences: [String]
    public var skipImageReferences: [String]
    /// Every set must pass (AND); inside a set `count` entries must pass.
    public var attestors: [KyvernoAttestorSet]
    public var attestations: [KyvernoAttestation]
    public var repository: String?
    public var mutateDigest: Bool
    public var verifyDigest: Bool
    public var required: Bool
    public var useCache: Bool
    /// `imageRegistryCredentials.secrets`: pull Secrets (in sealgate's namespace) used as registry credentials.
    public var registrySecrets: [String] = []
    /// `imageRegistryCredentials.providers` other than `default`: cloud credential providers its registry reads may use.
    public var registryProviders: [String] = []
    /// 1.13+ `validate`: deny conditions evaluated after attestations, with each named
    /// attestation's predicate in the context under its name.
    public var validate: KyvernoValidate?
}

public struct KyvernoValidate: Sendable {
    public var message: String?
    public var deny: KyvernoAnyAllConditions
}

public struct KyvernoAttestorSet: Sendable {
    /// nil (or 0) means every entry must verify.
    public var count: Int?
    public var entries: [KyvernoAttestor]
    public var requiredCount: Int { (count ?? 0) > 0 ? count! : entries.count }
}

public indirect enum KyvernoAttestor: Sendable {
    case authority(SignatureAuthority)
    case nested(KyvernoAttestorSet)
}

public struct KyvernoAttestation: Sendable {
    public var name: String?
    /// Predicate type URI (`type`, or the deprecated `predicateType`).
    public var type: String
    public var attestors: [KyvernoAttestorSet]
    /// Every statement must satisfy every entry (each entry: all of `all`, and one of `any`).
    public var conditions: [KyvernoAnyAllConditions]
}

public struct KyvernoAnyAllConditions: Sendable {
    public var any: [KyvernoCondition]
    public var all: [KyvernoCondition]
}

public struct KyvernoCondition: Sendable {
    public var key: KyvernoTemplate
    public var op: KyvernoOperator
    public var value: KyvernoTemplate
    public var message: String?
}

/// `match`/`exclude`: `any` filters are ORed, `all` filters ANDed.
public struct KyvernoMatch: Sendable {
    public var any: [KyvernoResourceFilter]
    public var all: [KyvernoResourceFilter]
}

public struct KyvernoResourceFilter: Sendable {
    public var kinds: [String]
    public var names: [String]
    public var namespaces: [String]
    public var annotations: [String: String]
    public var selector: LabelSelector?
    public var namespaceSelector: LabelSelector?
    public var operations: [String]
    /// `subjects`: the request's user must be one of them (rbac Subject: User, Group or ServiceAccount).
    public var subjects: [KyvernoSubject] = []
}

public struct KyvernoSubject: Sendable, Hashable {
    public enum Kind: String, Sendable { case user = "User", group = "Group", serviceAccount = "ServiceAccount" }
    public var kind: Kind
    public var name: String
    public var namespace: String
}
