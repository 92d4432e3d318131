import Foundation
import Registry

/// Writes signatures/attestations into a registry the way cosign does (tag scheme and OCI referrers),
/// whatever produced them. Pair with `SigstoreTestSupport.CosignImageSigner`:
///
///     let sink = TestImages.cosignSink(client, registry: reg.host, repository: "app")
///     let signer = CosignImageSigner(sigstore: sigstore, appendTagLayers: sink.appendTagLayers, pushReferrer: sink.pushReferrer)
extension TestImages {
    public typealias Layer = (mediaType: String, bytes: [UInt8], annotations: [String: String])

    /// Appends `layers` to the cosign tag-scheme manifest `sha256-<hex>.<suffix>` (`sig`, `att`), creating it
    /// if needed, as a second `cosign sign` does. Returns the new attachment manifest.
    @discardableResult
    public static func appendCosignLayers(_ client: RegistryClient, registry: String, repository: String, digest: String,
                                          suffix: String, layers: [Layer]) throws -> Pushed {
        let deadline = Deadline.after(seconds: 30)
        let tag = digest.replacingOccurrences(of: ":", with: "-") + "." + suffix
        var existing: [[String: Any]] = []
        do {
            let m = try client.manifest(registry: registry, repository: repository, reference: tag, deadline: deadline)
            for d in m.layers {
                var o: [String: Any] = ["mediaType": d.mediaType, "digest": d.digest, "size": d.size]
                if let a = d.annotations { o["annotations"] = a }
                existing.append(o)
            }
        } catch let e as RegistryError where e.kind == .notFound {}
        let config = try client.pushBlob(registry: registry, repository: repository, bytes: Array("{}".utf8),
                                         mediaType: MediaType.ociEmptyConfig, deadline: deadline)
        for layer in layers {
            let d = try client.pushBlob(registry: registry, repository: repository, bytes: layer.bytes, mediaType: layer.mediaType, deadline: deadline)
            existing.append(["mediaType": layer.mediaType, "digest": d.digest, "size": d.size, "annotations": layer.annotations])
        }
        let bytes = json([
            "schemaVersion": 2, "mediaType": MediaType.ociManifest,
            "config": ["mediaType": MediaType.ociEmptyConfig, "digest": config.digest, "size": config.size],
            "layers": existing,
        ])
        try client.pushManifest(registry: registry, repository: repository, reference: tag, bytes: bytes,
                                mediaType: MediaType.ociManifest, deadline: deadline)
        return Pushed(manifestBytes: bytes, digest: RegistryClient.sha256Digest(bytes))
    }

    /// Pushes `bytes` as a one-layer OCI artifact whose subject is `subject` and adds it to the referrers
    /// fallback index (`sha256-<hex>`), keeping earlier referrers, as cosign/oras do on registries without
    /// the referrers API. `subjectMediaType`/`subjectSize` describe the subject manifest.
    @discardableResult
    public static func pushReferrer(_ client: RegistryClient, registry: String, repository: String, subject: String,
                                    subjectMediaType: String, subjectSize: Int, artifactType: String, layer: Layer,
                                    annotations: [String: String] = [:]) throws -> Pushed {
        let deadline = Deadline.after(seconds: 30)
        let config = try client.pushBlob(registry: registry, repository: repository, bytes: Array("{}".utf8),
                                         mediaType: MediaType.ociEmptyConfig, deadline: deadline)
        let l = try client.pushBlob(registry: registry, repository: repository, bytes: layer.bytes, mediaType: layer.mediaType, deadline: deadline)
        var manifest: [String: Any] = [
            "schemaVersion": 2, "mediaType": MediaType.ociManifest, "artifactType": artifactType,
            "config": ["mediaType": MediaType.ociEmptyConfig, "digest": config.digest, "size": config.size],
            "layers": [["mediaType": layer.mediaType, "digest": l.digest, "size": l.size, "annotations": layer.annotations]],
            "subject": ["mediaType": subjectMediaType, "digest": subject, "size": subjectSize],
        ]
        if !annotations.isEmpty { manifest["annotations"] = annotations }
        let bytes = json(manifest)
        let digest = RegistryClient.sha256Digest(bytes)
        try client.pushManifest(registry: registry, repository: repository, reference: digest, bytes: bytes,
                                mediaType: MediaType.ociManifest, deadline: deadline)
        // Fallback index: existing entries plus this one.
        let fallback = subject.replacingOccurrences(of: ":", with: "-")
        var entries: [[String: Any]] = []
        do {
            let index = try client.manifest(registry: registry, repository: repository, reference: fallback, deadline: deadline)
            for d in index.manifests {
                var o: [String: Any] = ["mediaType": d.mediaType, "digest": d.digest, "size": d.size]
                if let t = d.artifactType { o["artifactType"] = t }
                if let a = d.annotations { o["annotations"] = a }
                entries.append(o)
            }
        } catch let e as RegistryError where e.kind == .notFound {}
        var entry: [String: Any] = ["mediaType": MediaType.ociManifest, "digest": digest, "size": bytes.count, "artifactType": artifactType]
        if !annotations.isEmpty { entry["annotations"] = annotations }
        entries.append(entry)
        try client.pushManifest(registry: registry, repository: repository, reference: fallback,
                                bytes: json(["schemaVersion": 2, "mediaType": MediaType.ociIndex, "manifests": entries]),
                                mediaType: MediaType.ociIndex, deadline: deadline)
        return Pushed(manifestBytes: bytes, digest: digest)
    }

    /// Closures that write cosign attachments for one repository (for `CosignImageSigner`).
    public static func cosignSink(_ client: RegistryClient, registry: String, repository: String) -> (
        appendTagLayers: @Sendable (_ digest: String, _ suffix: String, _ layers: [Layer]) throws -> Void,
        pushReferrer: @Sendable (_ subject: String, _ subjectMediaType: String, _ subjectSize: Int, _ artifactType: String,
                                 _ layer: Layer, _ annotations: [String: String]) throws -> Void
    ) {
        (
            { digest, suffix, layers in
                try appendCosignLayers(client, registry: registry, repository: repository, digest: digest, suffix: suffix, layers: layers)
            },
            { subject, mediaType, size, artifactType, layer, annotations in
                try pushReferrer(client, registry: registry, repository: repository, subject: subject, subjectMediaType: mediaType,
                                 subjectSize: size, artifactType: artifactType, layer: layer, annotations: annotations)
            }
        )
    }
}
