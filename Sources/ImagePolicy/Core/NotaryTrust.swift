/// Docker Content Trust (Notary v1) as a trust source: the trust data on `server`, verified from a pinned
/// root key, must sign the image's digest (by the named delegations, when there are any).
public struct NotaryTrust: Sendable, Hashable {
    /// A URL (`https://notary.example:4443`) or a host (Connaisseur `host: notary.docker.io`, meaning https).
    public var server: String
    /// PEM public keys; the repository's root must be signed by one of them.
    public var rootKeysPEM: [String]
    /// PEM CA bundle for the server's TLS certificate (Connaisseur `cert`), trusted besides the system roots.
    public var caPEM: String?
    public var username: String?
    public var password: String?
    /// Delegation roles that must sign the same digest (`releases` or `targets/releases`).
    public var delegations: [String]
    /// How many of `delegations` must sign; nil: all.
    public var threshold: Int?

    public init(server: String, rootKeysPEM: [String], caPEM: String? = nil, username: String? = nil, password: String? = nil,
                delegations: [String] = [], threshold: Int? = nil) {
        self.server = server
        self.rootKeysPEM = rootKeysPEM
        self.caPEM = caPEM
        self.username = username
        self.password = password
        self.delegations = delegations
        self.threshold = threshold
    }
}
