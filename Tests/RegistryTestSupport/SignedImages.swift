import Foundation
import Registry
import SigstoreTestSupport

extension TestImages {
    /// Pushes `repository:tag`, signs it (keyless unless `options` says otherwise) and attaches each
    /// `(predicateType, predicate)` attestation, the way cosign stores them; returns the image digest.
    @discardableResult
    public static func pushSigned(_ client: RegistryClient, registry: String, repository: String, tag: String = "v1",
                                  sigstore: TestSigstore, options: TestSigstore.Options,
                                  attestations: [(type: String, predicate: Any)] = []) throws -> String {
        let digest = try pushImage(client, registry: registry, repository: repository, tag: tag).digest
        let sink = cosignSink(client, registry: registry, repository: repository)
        let signer = CosignImageSigner(sigstore: sigstore, appendTagLayers: sink.appendTagLayers, pushReferrer: sink.pushReferrer)
        try signer.sign(digest: digest, reference: "\(registry)/\(repository)", options: options)
        for attestation in attestations {
            try signer.attest(digest: digest, reference: "\(registry)/\(repository)", predicateType: attestation.type,
                              predicate: attestation.predicate, options: options)
        }
        return digest
    }
}
