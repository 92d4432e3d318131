import Foundation
import HTTP1Client
import Registry
import SealgateCore

/// The cloud registries' credential providers under Kyverno's names (`amazon`, `google`, `azure`, `github`).
/// Each serves the registry hosts of its cloud (and those mapped to it with `--registry-provider HOST=NAME`); it is
/// used when its platform's environment is present (IRSA, workload identity, a token) or when it is selected by name
/// (`--cloud-credentials`, or Kyverno `imageRegistryCredentials.providers` / ImageValidatingPolicy
/// `credentials.providers` in the loaded policies). Unselected, a public image on such a host is read anonymously.
public enum CloudProviders {
    public static let names = ["amazon", "google", "azure", "github"]

    /// `selected` is asked per registry call (policies reload); `margin`: seconds before expiry a token is renewed.
    public static func make(environment: [String: String] = ProcessInfo.processInfo.environment, hosts: [String: Set<String>] = [:],
                            extraCAFile: String? = nil, margin: Double = 60,
                            selected: @escaping @Sendable () -> Set<String> = { [] }) throws -> [any RegistryCredentialProvider] {
        let client: HTTPClient
        do { client = try HTTPClient(extraCAFile: extraCAFile) } catch {
            throw CloudCredentialError("cloud credentials", "TLS setup", "\(error)")
        }
        let providers: [(any RegistryCredentialProvider, configured: Bool)] = [
            (ECRProvider(environment: environment, hosts: hosts["amazon"] ?? [], client: client, margin: margin),
             environment["AWS_ROLE_ARN"] != nil || environment["AWS_ACCESS_KEY_ID"] != nil),
            (GoogleProvider(environment: environment, hosts: hosts["google"] ?? [], client: client, margin: margin),
             // GKE's metadata server needs no environment, so it is used only when named.
             environment["GOOGLE_APPLICATION_CREDENTIALS"] != nil),
            (ACRProvider(environment: environment, hosts: hosts["azure"] ?? [], client: client, margin: margin),
             environment["AZURE_FEDERATED_TOKEN_FILE"] != nil),
            (GHCRProvider(environment: environment, hosts: hosts["github"] ?? []),
             ["GHCR_TOKEN_FILE", "GHCR_TOKEN", "GITHUB_TOKEN"].contains { environment[$0] != nil }),
        ]
        return providers.map { Selected(inner: $0.0, configured: $0.configured, selected: selected) }
    }

    /// `HOST=NAME` pairs (`--registry-provider`) by provider name; the error names the bad pair.
    public static func hostMap(_ pairs: [String]) throws -> [String: Set<String>] {
        var out: [String: Set<String>] = [:]
        for pair in pairs {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, names.contains(parts[1]) else {
                throw CloudCredentialError("--registry-provider", pair, "expected HOST=NAME with NAME one of \(names.joined(separator: ", "))")
            }
            out[parts[1], default: []].insert(parts[0])
        }
        return out
    }

    /// A provider used only when configured by its environment or selected by name.
    struct Selected: RegistryCredentialProvider {
        let inner: any RegistryCredentialProvider
        let configured: Bool
        let selected: @Sendable () -> Set<String>
        var name: String { inner.name }
        func serves(registry: String) -> Bool {
            inner.serves(registry: registry) && (configured || selected().contains(inner.name))
        }
        func credential(for registry: String, deadline: Deadline) throws -> Credential? {
            try inner.credential(for: registry, deadline: deadline)
        }
    }
}
