/// A Connaisseur configuration (its helm values' `application:` section: `validators` and `policy`), the third
/// policy dialect. For each image exactly one rule applies, the one with the most specific matching pattern, and
/// its validator decides: `static` approves or denies, `cosign` checks signatures with the ClusterImagePolicy key
/// authority's verifier, `notaryv1` checks Docker Content Trust. An image no rule matches is denied.
public struct ConnaisseurConfig: Sendable {
    /// `Connaisseur/<file name>`: how verdicts and deny messages name it.
    public var name: String
    public var source: DocumentSource
    public var validators: [String: ConnaisseurValidator]
    public var rules: [ConnaisseurRule]
    /// `features.detectionMode`: failures warn instead of deny.
    public var detectionMode: Bool
    /// `features.namespacedValidation`: which namespaces are validated, by their Connaisseur label.
    public var namespaces: NamespaceFilter

    public enum NamespaceFilter: Sendable {
        case all
        /// `mode: ignore`: namespaces labelled `…/webhook: ignore` are not validated.
        case ignoreLabelled
        /// `mode: validate`: only namespaces labelled `…/webhook: validate` are.
        case onlyLabelled
    }

    public static let namespaceLabel = "securesystemsengineering.github.io/connaisseur/webhook"
}

public struct ConnaisseurValidator: Sendable {
    public enum Kind: Sendable {
        case staticApproval(Bool)
        /// Trust roots by name (PEM public keys).
        case cosign(trustRoots: [String: String])
        case notary(host: String, trustRoots: [String: String], caPEM: String?, username: String?, password: String?)
    }
    public var name: String
    public var kind: Kind
    /// Trust root names in document order (for `trustRoot: "*"`).
    public var trustRootOrder: [String]
}

public struct ConnaisseurRule: Sendable {
    public var index: Int
    public var pattern: String
    public var validator: String
    /// `with.trustRoot`, default `default`; `*`: every trust root of the (cosign) validator.
    public var trustRoot: String
    /// notaryv1 `with.delegations`.
    public var delegations: [String]
    /// cosign: signatures needed among the trust roots (with `trustRoot: "*"`); notaryv1: delegations needed.
    public var threshold: Int?
    /// cosign `with.required`: trust roots that must be among the signers.
    public var required: [String]
    public var verifyInTransparencyLog: Bool
    /// `with.mode: mutate` (default) pins the verified digest; `insecureValidateOnly` leaves the reference alone.
    public var mutate: Bool
}
