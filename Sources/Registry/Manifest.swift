import Foundation

public enum MediaType {
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let ociEmptyConfig = "application/vnd.oci.empty.v1+json"
    public static let cosignSimpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json"
    public static let dsseEnvelope = "application/vnd.dsse.envelope.v1+json"
    public static let sigstoreBundleV03 = "application/vnd.dev.sigstore.bundle.v0.3+json"

    static let manifestAccept = [ociManifest, ociIndex, dockerManifest, dockerManifestList].joined(separator: ", ")
    static let indexTypes: Set<String> = [ociIndex, dockerManifestList]
}

/// A content descriptor (OCI image spec).
public struct Descriptor: Codable, Sendable, Equatable {
    public var mediaType: String
    public var digest: String
    public var size: Int
    public var annotations: [String: String]?
    public var artifactType: String?
    public var platform: Platform?

    public init(mediaType: String, digest: String, size: Int, annotations: [String: String]? = nil,
                artifactType: String? = nil, platform: Platform? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
        self.artifactType = artifactType
        self.platform = platform
    }
}

public struct Platform: Codable, Sendable, Equatable, CustomStringConvertible {
    public var architecture: String
    public var os: String
    public var variant: String?

    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    /// Parses `linux/amd64` or `linux/arm64/v8`.
    public init?(_ text: String) {
        let parts = text.split(separator: "/").map(String.init)
        guard parts.count == 2 || parts.count == 3 else { return nil }
        self.init(os: parts[0], architecture: parts[1], variant: parts.count == 3 ? parts[2] : nil)
    }

    public var description: String { [os, architecture, variant].compactMap { $0 }.joined(separator: "/") }
}

/// An image manifest or index as fetched: raw bytes (what digests and signatures cover) plus the parsed fields.
public struct Manifest: Sendable {
    public var mediaType: String
    public var digest: String
    public var bytes: [UInt8]
    public var config: Descriptor?
    public var layers: [Descriptor]
    /// For indexes / manifest lists.
    public var manifests: [Descriptor]
    public var subject: Descriptor?
    public var artifactType: String?
    public var annotations: [String: String]?

    public var isIndex: Bool { MediaType.indexTypes.contains(mediaType) }

    /// Parses manifest bytes; `contentType` is the registry's Content-Type, used when the body has no mediaType.
    public init(bytes: [UInt8], digest: String, contentType: String?) throws {
        let wire: ManifestWire
        do {
            wire = try ManifestWire(bytes: bytes)
        } catch {
            throw ManifestError(detail: "manifest \(digest) is not valid JSON: \(error)")
        }
        guard wire.schemaVersion == 2 else { throw ManifestError(detail: "manifest \(digest): unsupported schemaVersion \(wire.schemaVersion.map(String.init) ?? "missing")") }
        let declared = wire.mediaType ?? contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) }
        let type = declared ?? (wire.manifests != nil ? MediaType.ociIndex : MediaType.ociManifest)
        guard [MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest, MediaType.dockerManifestList].contains(type) else {
            throw ManifestError(detail: "manifest \(digest): unsupported media type \(type)")
        }
        mediaType = type
        self.digest = digest
        self.bytes = bytes
        config = wire.config
        layers = wire.layers ?? []
        manifests = wire.manifests ?? []
        subject = wire.subject
        artifactType = wire.artifactType
        annotations = wire.annotations
        if !isIndex && config == nil { throw ManifestError(detail: "manifest \(digest) has no config") }
    }
}

struct ManifestError: Error { let detail: String }
