import Admission
import ArgumentParser
import Dispatch
import Foundation
import ImageVerification
import SigstoreVerify
import Logging
import ImagePolicy
import ImageReference
import Registry

extension ServeCommand {
    /// cosign-compatible verification against the trust root (`--trusted-root`, else Sigstore public good).
    func makeVerifier(registry: RegistryClient, logger: Logger, secrets: CosignAuthorityVerifier.SecretLookup? = nil,
                      trustRoots: CosignAuthorityVerifier.TrustRootLookup? = nil) throws -> any AuthorityVerifier {
        let root = try trustedRootOption(trustedRoot)
        // Secrets named by policies (keys, CA bundles) come from the cluster (--kube/--kubeconfig); without
        // it such authorities fail closed with a message saying the secret is unavailable.
        var verifier = CosignAuthorityVerifier(registry: registry, trustedRoot: root, timeout: AdmissionEndpoint.maxTimeout,
                                               secrets: secrets ?? { _, _ in nil })
        if let trustRoots { verifier.trustRoots = trustRoots }
        return verifier
    }
}
