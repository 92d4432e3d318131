import Foundation
import Registry

/// Builds small, unique OCI images and pushes them with our own client (blobs, then manifest).
public enum TestImages {
    public struct Pushed: Sendable {
        public var manifestBytes: [UInt8]
        public var digest: String
    }

    public static func json(_ object: Any) -> [UInt8] {
        Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    /// A single-platform image with one random layer.
    public static func pushImage(_ client: RegistryClient, registry: String, repository: String, tag: String?,
                          os: String = "linux", architecture: String = "amd64") throws -> Pushed {
        let deadline = Deadline.after(seconds: 30)
        let layer = (0..<512).map { _ in UInt8.random(in: 0...255) }
        let config = json(["architecture": architecture, "os": os, "rootfs": ["type": "layers", "diff_ids": [RegistryClient.sha256Digest(layer)]]])
        let configDesc = try client.pushBlob(registry: registry, repository: repository, bytes: config,
                                             mediaType: "application/vnd.oci.image.config.v1+json", deadline: deadline)
        let layerDesc = try client.pushBlob(registry: registry, repository: repository, bytes: layer,
                                            mediaType: "application/vnd.oci.image.layer.v1.tar", deadline: deadline)
        let manifest = json([
            "schemaVersion": 2, "mediaType": MediaType.ociManifest,
            "config": ["mediaType": configDesc.mediaType, "digest": configDesc.digest, "size": configDesc.size],
            "layers": [["mediaType": layerDesc.mediaType, "digest": layerDesc.digest, "size": layerDesc.size]],
        ])
        let digest = RegistryClient.sha256Digest(manifest)
        try client.pushManifest(registry: registry, repository: repository, reference: tag ?? digest, bytes: manifest,
                                mediaType: MediaType.ociManifest, deadline: deadline)
        return Pushed(manifestBytes: manifest, digest: digest)
    }

    /// An index over two platform images.
    public static func pushIndex(_ client: RegistryClient, registry: String, repository: String, tag: String) throws -> (index: Pushed, amd64: Pushed, arm64: Pushed) {
        let amd64 = try pushImage(client, registry: registry, repository: repository, tag: nil, architecture: "amd64")
        let arm64 = try pushImage(client, registry: registry, repository: repository, tag: nil, architecture: "arm64")
        let index = json([
            "schemaVersion": 2, "mediaType": MediaType.ociIndex,
            "manifests": [
                ["mediaType": MediaType.ociManifest, "digest": amd64.digest, "size": amd64.manifestBytes.count, "platform": ["os": "linux", "architecture": "amd64"]],
                ["mediaType": MediaType.ociManifest, "digest": arm64.digest, "size": arm64.manifestBytes.count, "platform": ["os": "linux", "architecture": "arm64", "variant": "v8"]],
            ],
        ])
        try client.pushManifest(registry: registry, repository: repository, reference: tag, bytes: index,
                                mediaType: MediaType.ociIndex, deadline: Deadline.after(seconds: 30))
        return (Pushed(manifestBytes: index, digest: RegistryClient.sha256Digest(index)), amd64, arm64)
    }

    /// A cosign-style attachment: a manifest whose layers carry `payloads`, pushed under `tag`,
    /// optionally naming `subject` (OCI 1.1 referrers) with an artifactType.
    public static func pushAttachment(_ client: RegistryClient, registry: String, repository: String, tag: String?,
                               layers payloads: [(mediaType: String, bytes: [UInt8], annotations: [String: String])],
                               subject: (digest: String, size: Int)? = nil, artifactType: String? = nil) throws -> Pushed {
        let deadline = Deadline.after(seconds: 30)
        let config: [UInt8] = Array("{}".utf8)
        let configDesc = try client.pushBlob(registry: registry, repository: repository, bytes: config, mediaType: MediaType.ociEmptyConfig, deadline: deadline)
        var layers: [[String: Any]] = []
        for payload in payloads {
            let d = try client.pushBlob(registry: registry, repository: repository, bytes: payload.bytes, mediaType: payload.mediaType, deadline: deadline)
            layers.append(["mediaType": payload.mediaType, "digest": d.digest, "size": d.size, "annotations": payload.annotations])
        }
        var manifest: [String: Any] = [
            "schemaVersion": 2, "mediaType": MediaType.ociManifest,
            "config": ["mediaType": MediaType.ociEmptyConfig, "digest": configDesc.digest, "size": configDesc.size],
            "layers": layers,
        ]
        if let subject { manifest["subject"] = ["mediaType": MediaType.ociManifest, "digest": subject.digest, "size": subject.size] }
        if let artifactType { manifest["artifactType"] = artifactType }
        let bytes = json(manifest)
        let digest = RegistryClient.sha256Digest(bytes)
        try client.pushManifest(registry: registry, repository: repository, reference: tag ?? digest, bytes: bytes,
                                mediaType: MediaType.ociManifest, deadline: deadline)
        return Pushed(manifestBytes: bytes, digest: digest)
    }

    /// The referrers tag schema fallback (for registries without the referrers API): an index
    /// under `sha256-<hex>` listing the referrers, as cosign/oras write it.
    public static func pushReferrersFallbackIndex(_ client: RegistryClient, registry: String, repository: String, subject: String,
                                           referrers: [(digest: String, size: Int, artifactType: String)]) throws {
        let index = json([
            "schemaVersion": 2, "mediaType": MediaType.ociIndex,
            "manifests": referrers.map { ["mediaType": MediaType.ociManifest, "digest": $0.digest, "size": $0.size, "artifactType": $0.artifactType] },
        ])
        try client.pushManifest(registry: registry, repository: repository, reference: subject.replacingOccurrences(of: ":", with: "-"),
                                bytes: index, mediaType: MediaType.ociIndex, deadline: Deadline.after(seconds: 30))
    }
}
