import Foundation
import ImageReference

/// An OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/…`) used as an offline registry.
///
/// `index.json` entries carry full references in `org.opencontainers.image.ref.name`
/// (`registry/repository:tag`), so one layout holds images of many repositories, plus their cosign
/// attachments (`…:sha256-<hex>.sig`/`.att`) and referrers, the latter as the referrers tag schema's
/// index (`…:sha256-<hex>`). Manifests and blobs are read by digest from `blobs/` and checked against it.
/// Image layers are not saved: verification never reads them.
public final class OCILayout: ImageSource, @unchecked Sendable {
    public static let refNameAnnotation = "org.opencontainers.image.ref.name"

    public let directory: URL
    private let lock = NSLock()
    private var entries: [Descriptor]

    private struct Index: Codable {
        var schemaVersion = 2
        var mediaType: String? = MediaType.ociIndex
        var manifests: [Descriptor]
    }

    /// Opens an existing layout.
    public init(directory: String) throws {
        self.directory = URL(fileURLWithPath: directory)
        let layoutFile = self.directory.appendingPathComponent("oci-layout")
        guard let marker = FileManager.default.contents(atPath: layoutFile.path),
              let object = try? JSONSerialization.jsonObject(with: marker) as? [String: Any], object["imageLayoutVersion"] is String else {
            throw Self.error("\(directory) is not an OCI image layout (no valid oci-layout file; write one with sealgate save)")
        }
        let indexFile = self.directory.appendingPathComponent("index.json")
        guard let data = FileManager.default.contents(atPath: indexFile.path) else { throw Self.error("\(indexFile.path): cannot read") }
        do { entries = try JSONDecoder().decode(Index.self, from: data).manifests } catch {
            throw Self.error("\(indexFile.path): not an OCI index: \(error)")
        }
    }

    /// Opens the layout at `directory`, creating an empty one when there is none.
    public static func create(directory: String) throws -> OCILayout {
        let url = URL(fileURLWithPath: directory)
        if !FileManager.default.fileExists(atPath: url.appendingPathComponent("oci-layout").path) {
            do {
                try FileManager.default.createDirectory(at: url.appendingPathComponent("blobs/sha256"), withIntermediateDirectories: true)
                try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: url.appendingPathComponent("oci-layout"))
                try Data(#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#.utf8)
                    .write(to: url.appendingPathComponent("index.json"))
            } catch {
                throw Self.error("\(directory): cannot create OCI layout: \(error)")
            }
        }
        return try OCILayout(directory: directory)
    }

    /// The references named in `index.json`.
    public var references: [String] {
        lock.withLock { entries.compactMap { $0.annotations?[Self.refNameAnnotation] } }
    }

    // MARK: - ImageSource

    public func resolve(_ ref: ImageRef, deadline: Deadline) throws -> Descriptor {
        if let digest = ref.digest { return Descriptor(mediaType: "", digest: digest, size: 0) }
        let name = "\(ref.name):\(ref.effectiveTag ?? "latest")"
        guard let entry = entry(named: name) else { throw notFound(ref.registry, "manifest \(ref.repository):\(ref.effectiveTag ?? "latest")") }
        return entry
    }

    public func manifest(registry: String, repository: String, reference: String, deadline: Deadline) throws -> Manifest {
        let descriptor: Descriptor
        if reference.hasPrefix("sha256:") {
            descriptor = lock.withLock { entries.first { $0.digest == reference } } ?? Descriptor(mediaType: "", digest: reference, size: 0)
        } else {
            guard let entry = entry(named: "\(registry)/\(repository):\(reference)") else {
                throw notFound(registry, "manifest \(repository):\(reference)")
            }
            descriptor = entry
        }
        let bytes = try readBlob(registry: registry, operation: "manifest \(repository)@\(descriptor.digest)", digest: descriptor.digest, maxBytes: 4 << 20)
        do {
            return try Manifest(bytes: bytes, digest: descriptor.digest, contentType: descriptor.mediaType.isEmpty ? nil : descriptor.mediaType)
        } catch let e as ManifestError {
            throw RegistryError(.malformed, registry: registry, operation: "manifest \(repository)@\(descriptor.digest)", detail: e.detail)
        }
    }

    public func blob(registry: String, repository: String, digest: String, maxBytes: Int?, deadline: Deadline) throws -> [UInt8] {
        try readBlob(registry: registry, operation: "blob \(repository)@\(digest)", digest: digest, maxBytes: maxBytes ?? 32 << 20)
    }

    public func cosignAttachment(_ attachment: RegistryClient.Attachment, registry: String, repository: String, digest: String,
                                 deadline: Deadline) throws -> Manifest? {
        let tag = RegistryClient.cosignTag(for: digest, attachment)
        guard entry(named: "\(registry)/\(repository):\(tag)") != nil else { return nil }
        return try manifest(registry: registry, repository: repository, reference: tag, deadline: deadline)
    }

    public func referrers(registry: String, repository: String, digest: String, artifactType: String?, deadline: Deadline) throws -> [Manifest] {
        let tag = digest.replacingOccurrences(of: ":", with: "-")
        guard entry(named: "\(registry)/\(repository):\(tag)") != nil else { return [] }
        let index = try manifest(registry: registry, repository: repository, reference: tag, deadline: deadline)
        return try index.manifests.filter { artifactType == nil || $0.artifactType == artifactType }.map {
            try manifest(registry: registry, repository: repository, reference: $0.digest, deadline: deadline)
        }
    }

    // MARK: - Writing

    /// Stores `bytes` under `blobs/sha256/` (once) and returns their digest.
    @discardableResult
    public func writeBlob(_ bytes: [UInt8]) throws -> String {
        let digest = RegistryClient.sha256Digest(bytes)
        let url = blobURL(digest)!
        if !FileManager.default.fileExists(atPath: url.path) {
            do {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(bytes).write(to: url, options: .atomic)
            } catch {
                throw Self.error("\(url.path): cannot write: \(error)")
            }
        }
        return digest
    }

    /// Points the full reference `name` (`registry/repository:tag`) at `descriptor`, replacing an older entry.
    public func setReference(_ name: String, to descriptor: Descriptor) {
        var d = descriptor
        d.annotations = (d.annotations ?? [:]).merging([Self.refNameAnnotation: name]) { $1 }
        lock.withLock {
            entries.removeAll { $0.annotations?[Self.refNameAnnotation] == name }
            entries.append(d)
        }
    }

    /// Writes `index.json` (atomically).
    public func writeIndex() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try lock.withLock { try encoder.encode(Index(manifests: entries)) }
        do { try data.write(to: directory.appendingPathComponent("index.json"), options: .atomic) } catch {
            throw Self.error("\(directory.path)/index.json: cannot write: \(error)")
        }
    }

    // MARK: - Helpers

    private func entry(named name: String) -> Descriptor? {
        lock.withLock { entries.last { $0.annotations?[Self.refNameAnnotation] == name } }
    }

    /// nil for anything but a well-formed sha256 digest (no path tricks through the digest).
    private func blobURL(_ digest: String) -> URL? {
        guard RegistryClient.isValidDigest(digest), digest.hasPrefix("sha256:") else { return nil }
        return directory.appendingPathComponent("blobs/sha256").appendingPathComponent(String(digest.dropFirst(7)))
    }

    private func readBlob(registry: String, operation: String, digest: String, maxBytes: Int) throws -> [UInt8] {
        guard let url = blobURL(digest) else {
            throw RegistryError(.invalidReference, registry: registry, operation: operation, detail: "unsupported digest \(digest)")
        }
        guard let data = FileManager.default.contents(atPath: url.path) else { throw notFound(registry, operation) }
        guard data.count <= maxBytes else {
            throw RegistryError(.tooLarge, registry: registry, operation: operation, detail: "\(data.count) bytes, limit \(maxBytes)")
        }
        let bytes = [UInt8](data)
        guard RegistryClient.sha256Digest(bytes) == digest else {
            throw RegistryError(.digestMismatch, registry: registry, operation: operation, detail: "\(url.path) does not hash to \(digest)")
        }
        return bytes
    }

    private func notFound(_ registry: String, _ operation: String) -> RegistryError {
        RegistryError(.notFound, registry: registry, operation: operation, detail: "not in offline image layout \(directory.path) (add it with sealgate save)")
    }

    static func error(_ detail: String) -> RegistryError {
        RegistryError(.unsupported, registry: "-", operation: "OCI layout", detail: detail)
    }
}

extension OCILayout {
    /// Copies what verifying `ref` reads from `source` into this layout: the manifest (and an index's
    /// platform manifests), its config, the cosign `.sig`/`.att`/`.sbom` attachments and referrers with
    /// their layers. Returns the digest saved. Call `writeIndex()` afterwards.
    @discardableResult
    public func save(_ ref: ImageRef, from source: any ImageSource, deadline: Deadline) throws -> String {
        let resolved = try source.resolve(ref, deadline: deadline)
        let reg = ref.registry, repo = ref.repository
        let top = try source.manifest(registry: reg, repository: repo, reference: resolved.digest, deadline: deadline)
        try saveManifest(top, registry: reg, repository: repo, source: source, deadline: deadline)
        for child in top.manifests {
            let m = try source.manifest(registry: reg, repository: repo, reference: child.digest, deadline: deadline)
            try saveManifest(m, registry: reg, repository: repo, source: source, deadline: deadline)
        }
        let name = ref.digest != nil && ref.tag == nil ? "\(ref.name)@\(top.digest)" : "\(ref.name):\(ref.effectiveTag ?? "latest")"
        setReference(name, to: descriptor(of: top))
        for attachment in [RegistryClient.Attachment.signature, .attestation, .sbom] {
            guard let m = try source.cosignAttachment(attachment, registry: reg, repository: repo, digest: top.digest, deadline: deadline) else { continue }
            try saveManifest(m, registry: reg, repository: repo, source: source, withLayers: true, deadline: deadline)
            setReference("\(ref.name):\(RegistryClient.cosignTag(for: top.digest, attachment))", to: descriptor(of: m))
        }
        let referrers = try source.referrers(registry: reg, repository: repo, digest: top.digest, artifactType: nil, deadline: deadline)
        if !referrers.isEmpty {
            var listed: [[String: Any]] = []
            for m in referrers {
                try saveManifest(m, registry: reg, repository: repo, source: source, withLayers: true, deadline: deadline)
                var entry: [String: Any] = ["mediaType": m.mediaType, "digest": m.digest, "size": m.bytes.count]
                if let t = m.artifactType ?? m.config?.mediaType { entry["artifactType"] = t }
                if let a = m.annotations { entry["annotations"] = a }
                listed.append(entry)
            }
            let index = try JSONSerialization.data(withJSONObject: ["schemaVersion": 2, "mediaType": MediaType.ociIndex, "manifests": listed],
                                                   options: [.sortedKeys, .withoutEscapingSlashes])
            let digest = try writeBlob([UInt8](index))
            setReference("\(ref.name):\(top.digest.replacingOccurrences(of: ":", with: "-"))",
                         to: Descriptor(mediaType: MediaType.ociIndex, digest: digest, size: index.count))
        }
        return top.digest
    }

    private func saveManifest(_ m: Manifest, registry: String, repository: String, source: any ImageSource, withLayers: Bool = false,
                              deadline: Deadline) throws {
        try writeBlob(m.bytes)
        let blobs = (m.config.map { [$0] } ?? []) + (withLayers ? m.layers : [])
        for d in blobs where blobURL(d.digest).map({ !FileManager.default.fileExists(atPath: $0.path) }) ?? false {
            try writeBlob(try source.blob(registry: registry, repository: repository, digest: d.digest, maxBytes: nil, deadline: deadline))
        }
    }

    private func descriptor(of m: Manifest) -> Descriptor {
        Descriptor(mediaType: m.mediaType, digest: m.digest, size: m.bytes.count, artifactType: m.artifactType)
    }
}
