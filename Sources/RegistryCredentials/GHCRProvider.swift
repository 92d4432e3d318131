import Foundation
import Registry
import SealgateCore

/// GitHub Container Registry with a token: `GHCR_TOKEN_FILE` (re-read after `ttl`, so a rotated token is picked
/// up), else `GHCR_TOKEN` or `GITHUB_TOKEN`; the user is `GHCR_USERNAME` (ghcr.io accepts any with a token).
/// The registry's own Bearer flow then runs as for any registry; nothing here needs a stand-in.
public final class GHCRProvider: RegistryCredentialProvider, @unchecked Sendable {
    public let name = "github"
    private let environment: [String: String]
    private let hosts: Set<String>
    let tokens: TokenCache
    private let ttl: Double

    init(environment: [String: String], hosts: Set<String>, ttl: Double = 60) {
        self.environment = environment
        self.hosts = hosts
        self.ttl = ttl
        tokens = TokenCache(margin: 0)
    }

    public func serves(registry: String) -> Bool { hosts.contains(registry) || registry == "ghcr.io" }

    public func credential(for registry: String, deadline: Deadline) throws -> Credential? {
        try tokens.credential("token") {
            let user = environment["GHCR_USERNAME"] ?? "sealgate"
            if let file = environment["GHCR_TOKEN_FILE"] {
                guard let token = FileManager.default.contents(atPath: file).map({ String(decoding: $0, as: UTF8.self) })?
                    .trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
                    throw CloudCredentialError("github", "token", "cannot read GHCR_TOKEN_FILE \(file)")
                }
                return (Credential(username: user, password: token), ttl)
            }
            guard let token = environment["GHCR_TOKEN"] ?? environment["GITHUB_TOKEN"], !token.isEmpty else {
                throw CloudCredentialError("github", "token", "none of GHCR_TOKEN_FILE, GHCR_TOKEN, GITHUB_TOKEN is set")
            }
            return (Credential(username: user, password: token), .infinity)
        }
    }
}
