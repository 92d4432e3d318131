import Foundation
import RegistryTestSupport
import ImageReference
import Registry
import Testing
import TestSupport

/// Against Debian's real docker-registry on 127.0.0.1 (plain, and TLS + htpasswd basic auth).
@Suite(.serialized)
struct RegistryClientTests {
    func plainClient(_ registry: LocalRegistry) throws -> RegistryClient {
        return try registry.client()
    }

    @Test("tag→digest for a single image and a multi-arch index matches the locally computed digest; cached lookups send nothing")
    func resolveTags() throws {
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let client = try plainClient(registry)
        let single = try TestImages.pushImage(client, registry: registry.host, repository: "team/app", tag: "v1")
        let multi = try TestImages.pushIndex(client, registry: registry.host, repository: "team/multi", tag: "latest")

        let fresh = try plainClient(registry)
        let ref = try ImageRef(parsing: "\(registry.host)/team/app:v1")
        let resolved = try fresh.resolve(ref, deadline: .after(seconds: 10))
        #expect(resolved.digest == single.digest)
        #expect(resolved.mediaType == MediaType.ociManifest)
        #expect(fresh.roundTrips == 1, "tag→digest should be one HEAD")

        let index = try fresh.resolve(try ImageRef(parsing: "\(registry.host)/team/multi"), deadline: .after(seconds: 10))
        #expect(index.digest == multi.index.digest)
        #expect(index.mediaType == MediaType.ociIndex)

        let before = fresh.roundTrips
        #expect(try fresh.resolve(ref, deadline: .after(seconds: 10)).digest == single.digest)
        #expect(try fresh.resolve(try ImageRef(parsing: "\(registry.host)/team/multi:latest"), deadline: .after(seconds: 10)).digest == multi.index.digest)
        #expect(fresh.roundTrips == before, "cached lookups must not touch the network")

        // A digest reference needs no lookup at all; digest wins over tag.
        let pinned = try ImageRef(parsing: "\(registry.host)/team/app:v0@\(single.digest)")
        #expect(try fresh.resolve(pinned, deadline: .after(seconds: 10)).digest == single.digest)
        #expect(fresh.roundTrips == before)

        // Manifests by digest are verified and cached; platform selection walks the index.
        let manifest = try fresh.manifest(registry: registry.host, repository: "team/multi", reference: multi.index.digest, deadline: .after(seconds: 10))
        #expect(manifest.isIndex && manifest.manifests.count == 2)
        let arm = try fresh.platformManifest(manifest, registry: registry.host, repository: "team/multi", platform: Platform("linux/arm64")!, deadline: .after(seconds: 10))
        #expect(arm.digest == multi.arm64.digest)
        let trips = fresh.roundTrips
        _ = try fresh.manifest(registry: registry.host, repository: "team/multi", reference: multi.index.digest, deadline: .after(seconds: 10))
        #expect(fresh.roundTrips == trips)
        #expect(throws: RegistryError.self) {
            try fresh.platformManifest(manifest, registry: registry.host, repository: "team/multi", platform: Platform("windows/amd64")!, deadline: .after(seconds: 10))
        }
    }

    @Test("an image pushed by skopeo (another client) resolves to the digest skopeo reports")
    func skopeoInterop() throws {
        guard Subprocess.which("skopeo") != nil else {
            Issue.record("skopeo is not installed; scripts/install-deps installs it")
            return
        }
        let registry = try LocalRegistry()
        defer { registry.stop() }
        // An OCI layout written by hand, copied into the registry by skopeo.
        let layout = try makeTemporaryDirectory("oci-layout")
        let blobs = layout.appendingPathComponent("blobs/sha256")
        try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        func write(_ bytes: [UInt8]) throws -> (String, Int) {
            let digest = RegistryClient.sha256Digest(bytes)
            try Data(bytes).write(to: blobs.appendingPathComponent(String(digest.dropFirst(7))))
            return (digest, bytes.count)
        }
        let layer = try write((0..<300).map { UInt8(truncatingIfNeeded: $0) })
        let config = try write(TestImages.json(["architecture": "amd64", "os": "linux", "rootfs": ["type": "layers", "diff_ids": [layer.0]]]))
        let manifestBytes = TestImages.json(["schemaVersion": 2, "mediaType": MediaType.ociManifest,
                                             "config": ["mediaType": "application/vnd.oci.image.config.v1+json", "digest": config.0, "size": config.1],
                                             "layers": [["mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer.0, "size": layer.1]]])
        let manifest = try write(manifestBytes)
        try #"{"imageLayoutVersion":"1.0.0"}"#.write(to: layout.appendingPathComponent("oci-layout"), atomically: true, encoding: .utf8)
        try Data(TestImages.json(["schemaVersion": 2, "manifests": [["mediaType": MediaType.ociManifest, "digest": manifest.0, "size": manifest.1,
                                                                     "annotations": ["org.opencontainers.image.ref.name": "v2"]]]]))
            .write(to: layout.appendingPathComponent("index.json"))
        let copy = try Subprocess.run("skopeo", ["copy", "--dest-tls-verify=false", "oci:\(layout.path):v2", "docker://\(registry.host)/skopeo/img:v2"], timeout: 120)
        try #require(copy.status == 0, "skopeo copy: \(copy.stderr)")
        let inspect = try Subprocess.run("skopeo", ["inspect", "--tls-verify=false", "--format", "{{.Digest}}", "docker://\(registry.host)/skopeo/img:v2"], timeout: 120)
        let skopeoDigest = inspect.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let client = try plainClient(registry)
        let resolved = try client.resolve(try ImageRef(parsing: "\(registry.host)/skopeo/img:v2"), deadline: .after(seconds: 10))
        #expect(resolved.digest == skopeoDigest)
        // skopeo compresses the layer on the way, so the stored manifest is its own; it must still verify.
        let stored = try client.manifest(registry: registry.host, repository: "skopeo/img", reference: resolved.digest, deadline: .after(seconds: 10))
        #expect(stored.digest == skopeoDigest)
        #expect(stored.layers.count == 1)
        let blob = try client.blob(registry: registry.host, repository: "skopeo/img", digest: stored.layers[0].digest, deadline: .after(seconds: 10))
        #expect(blob.count == stored.layers[0].size)
        _ = manifest
    }

    @Test("cosign tag-scheme signatures/attestations and referrers (fallback tag schema) are found for a digest")
    func discoverAttachments() throws {
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let client = try plainClient(registry)
        let image = try TestImages.pushImage(client, registry: registry.host, repository: "signed/app", tag: "v1")
        let sigPayload = Array(#"{"critical":{"identity":{"docker-reference":"x"},"image":{"docker-manifest-digest":"\#(image.digest)"},"type":"cosign container image signature"},"optional":null}"#.utf8)
        _ = try TestImages.pushAttachment(client, registry: registry.host, repository: "signed/app",
                                          tag: RegistryClient.cosignTag(for: image.digest, .signature),
                                          layers: [(MediaType.cosignSimpleSigning, sigPayload, ["dev.cosignproject.cosign/signature": "MEUCIQ=="])])
        _ = try TestImages.pushAttachment(client, registry: registry.host, repository: "signed/app",
                                          tag: RegistryClient.cosignTag(for: image.digest, .attestation),
                                          layers: [(MediaType.dsseEnvelope, Array(#"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}"#.utf8),
                                                    ["predicateType": "https://spdx.dev/Document"])])
        let bundle = try TestImages.pushAttachment(client, registry: registry.host, repository: "signed/app", tag: nil,
                                                   layers: [(MediaType.sigstoreBundleV03, Array(#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}"#.utf8), [:])],
                                                   subject: (image.digest, image.manifestBytes.count), artifactType: MediaType.sigstoreBundleV03)
        let sbom = try TestImages.pushAttachment(client, registry: registry.host, repository: "signed/app", tag: nil,
                                                 layers: [("application/spdx+json", Array("{}".utf8), [:])],
                                                 subject: (image.digest, image.manifestBytes.count), artifactType: "application/spdx+json")
        try TestImages.pushReferrersFallbackIndex(client, registry: registry.host, repository: "signed/app", subject: image.digest,
                                                  referrers: [(bundle.digest, bundle.manifestBytes.count, MediaType.sigstoreBundleV03),
                                                              (sbom.digest, sbom.manifestBytes.count, "application/spdx+json")])

        let reader = try plainClient(registry)
        let deadline = Deadline.after(seconds: 10)
        let sig = try #require(try reader.cosignAttachment(.signature, registry: registry.host, repository: "signed/app", digest: image.digest, deadline: deadline))
        #expect(sig.layers.count == 1)
        #expect(sig.layers[0].annotations?["dev.cosignproject.cosign/signature"] == "MEUCIQ==")
        let payload = try reader.blob(registry: registry.host, repository: "signed/app", digest: sig.layers[0].digest, deadline: deadline)
        #expect(payload == sigPayload)
        let att = try #require(try reader.cosignAttachment(.attestation, registry: registry.host, repository: "signed/app", digest: image.digest, deadline: deadline))
        #expect(att.layers.first?.mediaType == MediaType.dsseEnvelope)
        #expect(try reader.cosignAttachment(.sbom, registry: registry.host, repository: "signed/app", digest: image.digest, deadline: deadline) == nil)

        let all = try reader.referrers(registry: registry.host, repository: "signed/app", digest: image.digest, deadline: deadline)
        #expect(Set(all.map(\.digest)) == [bundle.digest, sbom.digest])
        let bundles = try reader.referrers(registry: registry.host, repository: "signed/app", digest: image.digest,
                                           artifactType: MediaType.sigstoreBundleV03, deadline: deadline)
        #expect(bundles.map(\.digest) == [bundle.digest])
        #expect(bundles.first?.subject?.digest == image.digest)

        // Unsigned image: nothing attached, no error.
        let unsigned = try TestImages.pushImage(client, registry: registry.host, repository: "signed/app", tag: "unsigned")
        #expect(try reader.cosignAttachment(.signature, registry: registry.host, repository: "signed/app", digest: unsigned.digest, deadline: deadline) == nil)
        #expect(try reader.referrers(registry: registry.host, repository: "signed/app", digest: unsigned.digest, deadline: deadline).isEmpty)

        // A second discovery is served from cache.
        let trips = reader.roundTrips
        _ = try reader.cosignAttachment(.signature, registry: registry.host, repository: "signed/app", digest: image.digest, deadline: deadline)
        _ = try reader.referrers(registry: registry.host, repository: "signed/app", digest: image.digest, deadline: deadline)
        #expect(reader.roundTrips == trips)
    }

    @Test("TLS registry with htpasswd: verified against the test CA, basic auth from a dockerconfigjson pull secret")
    func tlsAndBasicAuth() throws {
        let pki = try TestPKI()
        let registry = try LocalRegistry(tls: pki, users: ["ci": "s3cret"])
        defer { registry.stop() }
        var config = RegistryConfiguration()
        config.extraCAFile = pki.caCertificate
        let secret = #"{"auths":{"\#(registry.host)":{"auth":"\#(Data("ci:s3cret".utf8).base64EncodedString())"}}}"#
        try config.credentials.addPullSecret(type: "kubernetes.io/dockerconfigjson", data: Data(secret.utf8), source: "secret ns/pull")
        let client = try RegistryClient(configuration: config)
        let pushed = try TestImages.pushImage(client, registry: registry.host, repository: "private/app", tag: "v1")
        let reader = try RegistryClient(configuration: config)
        #expect(try reader.resolve(try ImageRef(parsing: "\(registry.host)/private/app:v1"), deadline: .after(seconds: 10)).digest == pushed.digest)

        // No credentials: a clear unauthorized error naming the registry.
        var anonymous = RegistryConfiguration()
        anonymous.extraCAFile = pki.caCertificate
        let error = #expect(throws: RegistryError.self) {
            try RegistryClient(configuration: anonymous).resolve(try ImageRef(parsing: "\(registry.host)/private/app:v1"), deadline: .after(seconds: 10))
        }
        #expect(error?.kind == .unauthorized)
        #expect(error?.description.contains(registry.host) == true)

        // Untrusted CA: TLS verification fails.
        let untrusted = #expect(throws: RegistryError.self) {
            try RegistryClient(configuration: RegistryConfiguration()).resolve(try ImageRef(parsing: "\(registry.host)/private/app:v1"), deadline: .after(seconds: 10))
        }
        #expect(untrusted?.kind == .tls)
    }
}

@Suite(.serialized)
struct RegistryFaultTests {
    static let faulty = Result { try FaultyRegistry() }

    @Test("misbehaving registries give a typed error within the deadline", arguments: [
        ("hang", RegistryError.Kind.timeout),
        ("error500", .serverError),
        ("wrongdigest", .digestMismatch),
        ("huge", .tooLarge),
        ("garbage", .malformed),
        ("ratelimit", .rateLimited),
        ("trickle", .timeout),
        ("missing", .notFound),
    ])
    func faults(fault: String, kind: RegistryError.Kind) throws {
        let faulty = try Self.faulty.get()
        var config = RegistryConfiguration()
        config.insecureRegistries = [faulty.host]
        let client = try RegistryClient(configuration: config)
        let started = Date()
        let error = #expect(throws: RegistryError.self) {
            // By digest the body is checked against it (wrong digest); garbage is fetched by tag to reach the parser.
            let reference = fault == "garbage" ? "latest" : "sha256:" + String(repeating: "a", count: 64)
            _ = try client.manifest(registry: faulty.host, repository: "\(fault)/img", reference: reference, deadline: .after(seconds: 2))
        }
        let elapsed = Date().timeIntervalSince(started)
        #expect(error?.kind == kind, "\(String(describing: error))")
        #expect(error?.registry == faulty.host)
        #expect(error?.description.contains("\(fault)/img") == true)
        // Bounded by the 2 s deadline (generous slack; a sanity bound, not a speed assertion).
        #expect(elapsed < 10)
        #expect(error?.isTransient == [.timeout, .serverError, .rateLimited].contains(kind))
    }

    @Test("Bearer token flow: challenge, token with basic credentials, retry; the token is reused")
    func bearer() throws {
        let faulty = try Self.faulty.get()
        var config = RegistryConfiguration()
        config.insecureRegistries = [faulty.host]
        try config.credentials.addDockerConfig(Data(#"{"auths":{"\#(faulty.host)":{"username":"alice","password":"wonderland"}}}"#.utf8), source: "test")
        let client = try RegistryClient(configuration: config)
        let first = try client.resolve(try ImageRef(parsing: "\(faulty.host)/bearer/img:one"), deadline: .after(seconds: 5))
        #expect(first.digest.hasPrefix("sha256:"))
        #expect(client.roundTrips == 3, "401, token, retried HEAD")
        _ = try client.resolve(try ImageRef(parsing: "\(faulty.host)/bearer/img:two"), deadline: .after(seconds: 5))
        #expect(client.roundTrips == 4, "cached token sent up front")

        var wrong = RegistryConfiguration()
        wrong.insecureRegistries = [faulty.host]
        wrong.credentials.set(Credential(username: "alice", password: "nope"), for: faulty.host)
        let error = #expect(throws: RegistryError.self) {
            try RegistryClient(configuration: wrong).resolve(try ImageRef(parsing: "\(faulty.host)/bearer/img:one"), deadline: .after(seconds: 5))
        }
        #expect(error?.kind == .unauthorized)
    }

    @Test("concurrent lookups of one tag are coalesced into one request")
    func coalescing() throws {
        let faulty = try Self.faulty.get()
        var config = RegistryConfiguration()
        config.insecureRegistries = [faulty.host]
        config.credentials.set(Credential(username: "alice", password: "wonderland"), for: faulty.host)
        let client = try RegistryClient(configuration: config)
        let ref = try ImageRef(parsing: "\(faulty.host)/bearer/img:same")
        let digests = LockedList()
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            if let d = try? client.resolve(ref, deadline: .after(seconds: 5)).digest { digests.append(d) }
        }
        #expect(digests.items.count == 16)
        #expect(Set(digests.items).count == 1)
        #expect(client.roundTrips == 3, "one challenge, one token, one HEAD for all 16 callers")
    }

    @Test("nothing listening: unreachable, transient")
    func refused() throws {
        let port = try freeLoopbackPort()
        var config = RegistryConfiguration()
        config.insecureRegistries = ["127.0.0.1:\(port)"]
        let error = #expect(throws: RegistryError.self) {
            try RegistryClient(configuration: config).resolve(try ImageRef(parsing: "127.0.0.1:\(port)/a/b:c"), deadline: .after(seconds: 2))
        }
        #expect(error?.kind == .unreachable)
        #expect(error?.isTransient == true)
    }
}

final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func append(_ s: String) { lock.lock(); stored.append(s); lock.unlock() }
    var items: [String] { lock.lock(); defer { lock.unlock() }; return stored }
}
