import Foundation
import SealgateCore
import X509

/// One image against Notary trust data: the digest the trust data signs for its tag (or its digest) must be the
/// digest being admitted, which the registry resolved. A tag re-pointed after signing names both digests.
public struct NotaryImageCheck: Sendable {
    public let server: NotaryServer
    public let pinnedRoots: [Certificate.PublicKey]
    public let signers: NotarySigners
    public let versions: NotaryVersions

    public init(server: NotaryServer, pinnedRootsPEM: [String], signers: NotarySigners, versions: NotaryVersions) throws {
        self.server = server
        self.pinnedRoots = try pinnedRootsPEM.enumerated().map { n, pem in
            do { return try Certificate.PublicKey(pemEncoded: pem) } catch {
                throw NotaryConfigurationError("notary root key \(n) is not a PEM public key: \(error)")
            }
        }
        guard !pinnedRoots.isEmpty else { throw NotaryConfigurationError("no notary root key given") }
        self.signers = signers
        self.versions = versions
    }

    /// Notary's GUN for an image: `registry/repository`, with Docker Hub named `docker.io` as docker's client does.
    public static func gun(registry: String, repository: String) -> String {
        let hub: Set<String> = ["index.docker.io", "registry-1.docker.io", "docker.io"]
        return "\(hub.contains(registry) ? "docker.io" : registry)/\(repository)"
    }

    /// `tag` nil: the image was given by digest, which must itself be signed. `digest`: the registry's.
    public func verify(gun: String, tag: String?, digest: String, now: Date = Date(), deadline: Deadline) throws -> (NotarySignedDigest, NotaryTrustData) {
        let data = try NotaryTrustData.load(server: server, gun: gun, pinnedRoots: pinnedRoots, now: now, versions: versions, deadline: deadline)
        let signed = try NotarySignedDigest.resolve(data, tag: tag, digest: tag == nil ? digest : nil, signers: signers)
        guard signed.digest == digest else {
            throw NotaryError.notSigned("\(gun):\(tag ?? "") resolves to \(digest) in the registry, but the signed digest is \(signed.digest) (signed by \(signed.signers.joined(separator: ", ")))")
        }
        return (signed, data)
    }
}
