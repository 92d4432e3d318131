import Foundation
import Registry
import RegistryTestSupport
import SigstoreTestSupport

/// Images pushed to the world's registry and signed or attested by its test Sigstore, the way cosign stores them.
extension E2EWorld {
    /// The identity keyless signatures carry (a GitHub Actions release workflow of github.com/sealgate/test).
    public static let identity = TestIdentity.githubWorkflow
    public static var subject: String {
        if case .uri(let uri) = identity.san { return uri }
        return ""
    }
    public static var issuer: String { identity.issuer }

    /// Pushes a small unique image as `repository:tag`.
    @discardableResult
    public func pushImage(_ repository: String, tag: String = "v1") throws -> TestImages.Pushed {
        try TestImages.pushImage(client, registry: host, repository: repository, tag: tag)
    }

    /// A signer that writes its signatures and attestations into `repository`.
    public func signer(_ repository: String) -> CosignImageSigner {
        let sink = TestImages.cosignSink(client, registry: host, repository: repository)
        return CosignImageSigner(sigstore: sigstore, appendTagLayers: sink.appendTagLayers, pushReferrer: sink.pushReferrer)
    }

    /// Pushes `repository:tag`, signs it (keyless now unless `options` says otherwise) and attaches each attestation.
    @discardableResult
    public func pushSigned(_ repository: String, tag: String = "v1", options: TestSigstore.Options? = nil,
                           attestations: [(type: String, predicate: Any)] = []) throws -> String {
        try TestImages.pushSigned(client, registry: host, repository: repository, tag: tag, sigstore: sigstore,
                                  options: options ?? keyless(), attestations: attestations)
    }

    /// Keyless signing now: Fulcio certificate with an SCT, a Rekor entry (SET and proof), optionally an RFC 3161 timestamp.
    public func keyless(rfc3161: Bool = false, tlog: Bool = true) -> TestSigstore.Options {
        var options = sigstore.options(at: Date())
        options.rfc3161 = rfc3161
        options.tlog = tlog
        return options
    }

    /// Signing with `key` now (with a Rekor entry unless `tlog` is false).
    public func keyed(_ key: SigningKey, tlog: Bool = true) -> TestSigstore.Options {
        var options = sigstore.options(at: Date())
        options.keyless = false
        options.signingKey = key
        options.tlog = tlog
        return options
    }

    /// Writes `key`'s public key as PEM under the world's directory; returns the path.
    public func writeKey(_ key: SigningKey, name: String = UUID().uuidString) throws -> String {
        try write(key.publicKeyPEM, to: "\(name).pub").path
    }
}
