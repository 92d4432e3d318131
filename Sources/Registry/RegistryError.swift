/// Every registry failure, naming the registry, what was being fetched and why.
public struct RegistryError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable {
        case timeout, unreachable, tls, unauthorized, notFound = "not found", rateLimited = "rate limited"
        case serverError = "server error", malformed = "malformed response", digestMismatch = "digest mismatch"
        case tooLarge = "response too large", invalidReference = "invalid reference", unsupported
    }

    public let kind: Kind
    /// Registry host[:port].
    public let registry: String
    /// What was being fetched: `manifest library/nginx:1.25`, `blob sha256:…`, `token`.
    public let operation: String
    public let detail: String

    public init(_ kind: Kind, registry: String, operation: String, detail: String) {
        self.kind = kind
        self.registry = registry
        self.operation = operation
        self.detail = detail
    }

    /// Worth retrying later: the same request may succeed (never cache these as verdicts).
    public var isTransient: Bool {
        switch kind {
        case .timeout, .unreachable, .rateLimited, .serverError, .tls: true
        // A refusal of the credentials sent (or of none) answers the same on retry until they change.
        case .unauthorized, .notFound, .malformed, .digestMismatch, .tooLarge, .invalidReference, .unsupported: false
        }
    }

    public var description: String { "registry \(registry): \(operation): \(kind.rawValue): \(detail)" }
}
