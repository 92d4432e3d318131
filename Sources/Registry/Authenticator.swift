import Foundation

/// Answers registry auth challenges: Basic, and the Bearer token flow (realm/service/scope) with
/// tokens cached until shortly before they expire, so warm calls need no extra round trip.
public final class Authenticator: @unchecked Sendable {
    /// A parsed `WWW-Authenticate` header (also read by the Notary client, whose servers answer like registries).
    public struct Challenge: Equatable, Sendable {
        public var scheme: String
        public var parameters: [String: String]
    }

    private struct Token {
        var value: String
        var expires: Double
    }

    private let lock = NSLock()
    private var tokens: [String: Token] = [:]
    /// Registries known to want Basic: send it up front.
    private var basicRegistries: Set<String> = []

    /// The Authorization header to send before any challenge, if one is known.
    func cachedAuthorization(registry: String, scope: String, credential: Credential?) -> String? {
        lock.lock(); defer { lock.unlock() }
        if let token = tokens[Self.tokenKey(registry, scope, credential)], token.expires > Deadline.now() { return "Bearer \(token.value)" }
        if basicRegistries.contains(registry), let credential { return basic(credential) }
        return nil
    }

    func rememberBasic(registry: String) {
        lock.lock(); basicRegistries.insert(registry); lock.unlock()
    }

    func store(token: String, expiresIn: Double, registry: String, scope: String, credential: Credential?) {
        lock.lock()
        // Bounded: each pull secret has its own tokens, so expired ones go before the map grows past its limit.
        if tokens.count >= 4096 { tokens = tokens.filter { $0.value.expires > Deadline.now() } }
        if tokens.count >= 4096 { tokens.removeAll() }
        // Leave a margin so a token never expires between our check and the registry's.
        tokens[Self.tokenKey(registry, scope, credential)] = Token(value: token, expires: Deadline.now() + max(0, expiresIn - 10))
        lock.unlock()
    }

    /// A token answers for the credential that obtained it: anonymous tokens and each credential's apart.
    private static func tokenKey(_ registry: String, _ scope: String, _ credential: Credential?) -> String {
        "\(registry) \(scope) \(credential?.fingerprint ?? "anonymous")"
    }

    func basic(_ credential: Credential) -> String { credential.basicAuthorization }

    /// Parses `WWW-Authenticate: Bearer realm="https://…",service="…",scope="…"`.
    public static func parseChallenge(_ header: String) -> Challenge? {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard let space = trimmed.firstIndex(of: " ") else {
            return trimmed.isEmpty ? nil : Challenge(scheme: trimmed.lowercased(), parameters: [:])
        }
        let scheme = trimmed[..<space].lowercased()
        var parameters: [String: String] = [:]
        var rest = trimmed[trimmed.index(after: space)...]
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard let eq = rest.firstIndex(of: "=") else { break }
            let key = rest[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: eq)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let c = rest.first {
                    rest = rest.dropFirst()
                    if escaped { value.append(c); escaped = false }
                    else if c == "\\" { escaped = true }
                    else if c == "\"" { break }
                    else { value.append(c) }
                }
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            parameters[key] = value
        }
        return Challenge(scheme: scheme, parameters: parameters)
    }
}
