import TUF

/// Why Notary trust data gave no signed digest. Each case says what and where (server, repository, role);
/// `transient` separates "try again" (server down, timeout) from "this is not signed as required".
public enum NotaryError: Error, CustomStringConvertible, Sendable {
    /// Metadata that fails the TUF checks (bad signature, expired, wrong type, rollback, hash or length, oversized).
    case metadata(gun: String, TUFError)
    /// The server could not be asked (down, TLS, timeout, 5xx).
    case unreachable(server: String, detail: String)
    /// The server has no trust data for the repository (404 on root).
    case noTrustData(server: String, gun: String)
    /// The server refused us (401/403 after authenticating).
    case unauthorized(server: String, detail: String)
    /// The trust data verifies but does not sign the image as the policy requires.
    case notSigned(String)

    public var transient: Bool {
        if case .unreachable = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .metadata(let gun, let e): "notary trust data of \(gun): \(e)"
        case .unreachable(let server, let detail): "notary server \(server) unreachable: \(detail)"
        case .noTrustData(let server, let gun): "notary server \(server) has no trust data for \(gun)"
        case .unauthorized(let server, let detail): "notary server \(server) refused access: \(detail)"
        case .notSigned(let why): why
        }
    }
}
