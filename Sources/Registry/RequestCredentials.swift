import Crypto
import Foundation

/// The registry credentials one admission request brings: its Pod's (or template's) `imagePullSecrets` and its
/// ServiceAccount's, read from the workload's namespace. Bound as `RequestCredentials.current` for the decision,
/// so every registry call behind it (tag resolution, signature and attestation reads) uses them first.
///
/// `identity` names the credentials without revealing them: caches key on it, so a request without a valid
/// secret never gets an answer obtained with one.
public struct RequestCredentials: Sendable {
    public let store: CredentialStore
    /// What they came from, for logs: `namespace/secret` names, never contents.
    public let sources: [String]
    /// A hash of every credential in `store` ("" when empty).
    public let identity: String

    public init(store: CredentialStore, sources: [String]) {
        self.store = store
        self.sources = sources
        identity = store.fingerprint
    }

    /// The credential for `registry` with the fingerprint caches key on.
    func credential(for registry: String) -> (credential: Credential, identity: String)? {
        store.credential(for: registry).map { ($0, $0.fingerprint) }
    }

    /// The credentials of the decision this task works for (set by the engine).
    @TaskLocal public static var current: RequestCredentials?

    /// Rebinds the caller's credentials on a Dispatch worker, where task-locals do not follow.
    public static func carried<T>(_ work: @escaping @Sendable () -> T) -> @Sendable () -> T {
        let credentials = current
        return { $current.withValue(credentials) { work() } }
    }
}

extension Credential {
    /// A short hash naming this credential in cache keys (never the secret itself).
    public var fingerprint: String {
        let digest = SHA256.hash(data: Data("\(username)\u{0}\(password)".utf8))
        return Hex.lowercase(digest.prefix(12))
    }
}
