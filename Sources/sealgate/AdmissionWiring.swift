import Admission
import Dispatch
import Logging
import ImagePolicy
import ImageReference
import Registry

extension RegistryError: TransientError {}

/// Tag → digest through the registry client (blocking calls, run off the cooperative pool).
struct RegistryDigestResolver: DigestResolver {
    let client: RegistryClient

    func digest(of image: ImageRef, deadline: Double) async throws -> String {
        let client = self.client
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try client.resolve(image, deadline: Deadline(uptime: deadline)).digest })
            }
        }
    }
}

/// Stands in until image verification is wired: every authority fails closed with a clear reason.
struct UnavailableVerifier: AuthorityVerifier {
    func verifySignature(image: ImageRef, digest: String, authority: SignatureAuthority) async -> AuthorityOutcome {
        .fail("signature verification is not available in this build")
    }
    func verifyAttestations(image: ImageRef, digest: String, authority: SignatureAuthority?, predicateType: String) async -> AuthorityOutcome {
        .fail("attestation verification is not available in this build")
    }
}

extension ServeCommand {
    func makeVerifier(registry: RegistryClient, logger: Logger) throws -> any AuthorityVerifier {
        UnavailableVerifier()
    }
}
