/// A validated policy-controller TrustRoot (`policy.sigstore.dev/v1alpha1`): the Sigstore trust material that
/// authorities name with `trustRootRef` (`keyless`, `ctlog`, `rfc3161timestamp`). It comes from a `--policy`
/// file (air-gapped clusters ship them as files) or from the cluster (`--watch-policies`).
public struct TrustRoot: Sendable, Hashable {
    public enum Material: Sendable, Hashable {
        /// `spec.sigstoreKeys`: certificate chains and log keys given inline (a private Sigstore). The JSON
        /// object as written (PEM values base64-encoded, as Go `[]byte`).
        case sigstoreKeys(JSONValue)
        /// `spec.remote` / `spec.repository`: the trusted root is a target of a TUF repository.
        case tuf(TUFRepository)
    }

    /// Where a TUF-based TrustRoot's repository is and what to trust it from (policy-controller's `Remote` and
    /// `Repository`). Byte fields are kept as written (base64 text, Go `[]byte`).
    public struct TUFRepository: Sendable, Hashable {
        public enum Location: Sendable, Hashable {
            /// `remote.mirror`: an http(s) mirror.
            case mirror(String)
            /// `repository.mirrorFS`: a gzipped tar of the repository, base64.
            case serialized(String)
        }
        public var location: Location
        /// `root`: the initial trusted TUF root.json, base64.
        public var root: String
        /// `targets`: the targets folder under the repository (default `targets`).
        public var targets: String
        /// `trustedRootTarget`: the target holding the Sigstore trusted root (default `trusted_root.json`).
        public var trustedRootTarget: String

        public init(location: Location, root: String, targets: String? = nil, trustedRootTarget: String? = nil) {
            self.location = location
            self.root = root
            self.targets = (targets ?? "").isEmpty ? "targets" : targets!
            self.trustedRootTarget = (trustedRootTarget ?? "").isEmpty ? "trusted_root.json" : trustedRootTarget!
        }

        /// The field it was written under.
        public var field: String {
            if case .mirror = location { return "remote" }
            return "repository"
        }
    }

    public var name: String
    public var source: DocumentSource
    public var material: Material

    public init(name: String, source: DocumentSource, material: Material) {
        self.name = name
        self.source = source
        self.material = material
    }
}
