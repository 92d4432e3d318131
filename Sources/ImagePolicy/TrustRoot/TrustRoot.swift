/// A validated policy-controller TrustRoot (`policy.sigstore.dev/v1alpha1`): the Sigstore trust material that
/// authorities name with `trustRootRef` (`keyless`, `ctlog`, `rfc3161timestamp`). It comes from a `--policy`
/// file (air-gapped clusters ship them as files) or from the cluster (`--watch-policies`).
public struct TrustRoot: Sendable, Hashable {
    public enum Material: Sendable, Hashable {
        /// `spec.sigstoreKeys`: certificate chains and log keys given inline (a private Sigstore). The JSON
        /// object as written (PEM values base64-encoded, as Go `[]byte`).
        case sigstoreKeys(JSONValue)
        /// `spec.remote` / `spec.repository`: trust material from a TUF repository. Not supported yet: an
        /// authority naming such a TrustRoot fails closed.
        case tuf(field: String)
    }

    public var name: String
    public var source: DocumentSource
    public var material: Material

    public init(name: String, source: DocumentSource, material: Material) {
        self.name = name
        self.source = source
        self.material = material
    }

    /// Why an authority naming this TrustRoot cannot verify, or nil when it can.
    public var unsupportedReason: String? {
        guard case .tuf(let field) = material else { return nil }
        return "TrustRoot \"\(name)\" uses spec.\(field): TUF-based TrustRoots are not yet supported (use spec.sigstoreKeys)"
    }
}
