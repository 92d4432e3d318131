import ImageReference

/// What image verification reads from a registry: tag → digest, manifests, blobs, cosign tag-scheme
/// attachments and OCI referrers. `RegistryClient` serves it over the network, `OCILayout` from a
/// directory written by `sealgate save` (offline CI runs, replays of online decisions).
public protocol ImageSource: Sendable {
    func resolve(_ ref: ImageRef, deadline: Deadline) throws -> Descriptor
    func manifest(registry: String, repository: String, reference: String, deadline: Deadline) throws -> Manifest
    func blob(registry: String, repository: String, digest: String, maxBytes: Int?, deadline: Deadline) throws -> [UInt8]
    func cosignAttachment(_ attachment: RegistryClient.Attachment, registry: String, repository: String, digest: String,
                          deadline: Deadline) throws -> Manifest?
    func referrers(registry: String, repository: String, digest: String, artifactType: String?, deadline: Deadline) throws -> [Manifest]
}

extension RegistryClient: ImageSource {}
