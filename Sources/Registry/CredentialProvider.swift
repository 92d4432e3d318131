/// A source of registry credentials minted on demand, e.g. a cloud registry's token exchange
/// (RegistryCredentials: ECR, Artifact Registry/GCR, ACR, GHCR). Asked after the request's own pull secrets,
/// `config.json` and the policies' pull secrets have nothing for the registry.
public protocol RegistryCredentialProvider: Sendable {
    /// What the provider is, for errors and logs (`ecr`, `google`, `acr`, `ghcr`).
    var name: String { get }
    /// Whether the provider serves this registry host (`123456789012.dkr.ecr.eu-west-1.amazonaws.com`, `*.azurecr.io`).
    func serves(registry: String) -> Bool
    /// A credential for the registry, within `deadline`; throws with a message that names no secret.
    func credential(for registry: String, deadline: Deadline) throws -> Credential?
}
