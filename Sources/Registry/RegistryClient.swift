import Crypto
import Foundation
import ImageReference
import Metrics
import SealgateCore

public struct RegistryConfiguration: Sendable {
    /// Registries (`host:port`) reached over plain HTTP, e.g. a local test registry. Never the default.
    public var insecureRegistries: Set<String> = []
    /// Extra PEM CA bundle trusted besides the system store.
    public var extraCAFile: String?
    public var credentials = CredentialStore()
    /// Consulted when `credentials` has nothing for a registry (e.g. pull Secrets named by cluster policies).
    public var credentialFallback: (@Sendable (_ registry: String) -> Credential?)?
    /// Consulted last, for the registries each serves: cloud token exchanges (RegistryCredentials).
    public var providers: [any RegistryCredentialProvider] = []
    /// How long a tag's digest is trusted before asking again (tags move).
    public var tagTTL: Double = 30
    /// How long a digest's signature/attestation listing is reused (new signatures can be attached).
    public var attachmentTTL: Double = 60
    /// Manifests by digest are immutable: kept until evicted.
    public var manifestCacheEntries = 4096
    public var manifestCacheBytes = 64 << 20
    /// Small blobs by digest (signature and attestation layers) are immutable too: every authority that checks the
    /// same signature reads it once. Larger blobs are never kept.
    public var blobCacheBytes = 16 << 20
    public var blobCacheMaxBlobBytes = 1 << 20
    public var maxManifestBytes = 4 << 20
    public var maxBlobBytes = 32 << 20

    public init() {}
}

/// Registry HTTP API v2 client: tag→digest, manifests, blobs, cosign tag-scheme attachments and OCI
/// referrers. Blocking calls, each bounded by a `Deadline`; safe to use from many threads.
public final class RegistryClient: @unchecked Sendable {
    public let configuration: RegistryConfiguration
    private let http: HTTPClient
    private let auth = Authenticator()
    private let tags: TTLCache<String, Descriptor>
    private let manifests: TTLCache<String, Manifest>
    private let attachments: TTLCache<String, [Manifest]>
    private let blobs: TTLCache<String, [UInt8]>
    private let blobFlight = SingleFlight<String, [UInt8]>(name: "blobs")
    private let tagFlight = SingleFlight<String, Descriptor>(name: "tags")
    private let manifestFlight = SingleFlight<String, Manifest>(name: "manifests")
    private let attachmentFlight = SingleFlight<String, [Manifest]>(name: "attachments")

    public init(configuration: RegistryConfiguration = RegistryConfiguration()) throws {
        self.configuration = configuration
        do {
            http = try HTTPClient(extraCAFile: configuration.extraCAFile)
        } catch HTTPClientError.tls(let why) {
            throw RegistryError(.tls, registry: "-", operation: "TLS setup", detail: why)
        }
        tags = TTLCache(name: "tags", maxEntries: 4096)
        manifests = TTLCache(name: "manifests", maxEntries: configuration.manifestCacheEntries, maxCost: configuration.manifestCacheBytes)
        attachments = TTLCache(name: "attachments", maxEntries: 4096)
        blobs = TTLCache(name: "blobs", maxEntries: 4096, maxCost: configuration.blobCacheBytes)
    }

    /// Requests sent over the network so far (cache hits send none).
    public var roundTrips: Int { http.requestsSent }

    public func flushCaches() {
        tags.removeAll()
        manifests.removeAll()
        attachments.removeAll()
        blobs.removeAll()
    }

    // MARK: - Resolution

    /// The digest `ref` names now: its own digest if it has one (digest wins, as with docker pull), else the tag's.
    public func resolve(_ ref: ImageRef, deadline: Deadline) throws -> Descriptor {
        if let digest = ref.digest {
            return Descriptor(mediaType: "", digest: digest, size: 0)
        }
        let tag = ref.effectiveTag ?? "latest"
        let key = cacheScope(ref.registry) + "\(ref.name):\(tag)"
        if let hit = tags.get(key) { return hit }
        return try tagFlight.run(key) {
            if let hit = tags.get(key) { return hit }
            let descriptor = try headManifest(registry: ref.registry, repository: ref.repository, reference: tag, deadline: deadline)
            tags.set(key, descriptor, ttl: configuration.tagTTL)
            return descriptor
        }
    }

    /// A manifest or index by digest (verified against the digest) or by tag.
    public func manifest(registry: String, repository: String, reference: String, deadline: Deadline) throws -> Manifest {
        let isDigest = reference.hasPrefix("sha256:")
        let scope = cacheScope(registry)
        let key = scope + "\(registry)/\(repository)@\(reference)"
        if isDigest, let hit = manifests.get(key) { return hit }
        return try manifestFlight.run(key) {
            if isDigest, let hit = manifests.get(key) { return hit }
            let manifest = try getManifest(registry: registry, repository: repository, reference: reference, deadline: deadline)
            manifests.set(scope + "\(registry)/\(repository)@\(manifest.digest)", manifest, ttl: .infinity, cost: manifest.bytes.count)
            return manifest
        }
    }

    /// For an index, the manifest for `platform`; for a single manifest, itself.
    public func platformManifest(_ manifest: Manifest, registry: String, repository: String, platform: Platform,
                                 deadline: Deadline) throws -> Manifest {
        guard manifest.isIndex else { return manifest }
        guard let entry = manifest.manifests.first(where: {
            $0.platform?.os == platform.os && $0.platform?.architecture == platform.architecture
                && (platform.variant == nil || $0.platform?.variant == platform.variant)
        }) else {
            throw RegistryError(.notFound, registry: registry, operation: "index \(repository)@\(manifest.digest)",
                                detail: "no manifest for platform \(platform)")
        }
        return try self.manifest(registry: registry, repository: repository, reference: entry.digest, deadline: deadline)
    }

    /// A blob, checked against its digest and a size limit.
    public func blob(registry: String, repository: String, digest: String, maxBytes: Int? = nil, deadline: Deadline) throws -> [UInt8] {
        let limit = maxBytes ?? configuration.maxBlobBytes
        // Keyed by repository as well: a digest readable in one repository says nothing of access to another.
        let key = cacheScope(registry) + "\(registry)/\(repository)@\(digest)"
        if let hit = blobs.get(key), hit.count <= limit { return hit }
        let body = try blobFlight.run(key) {
            if let hit = blobs.get(key) { return hit }
            let operation = "blob \(repository)@\(digest)"
            let response = try request(registry: registry, repository: repository, method: "GET", path: "/v2/\(repository)/blobs/\(digest)",
                                       accept: nil, maxBody: limit, operation: operation, deadline: deadline)
            try expectStatus(response, [200], registry: registry, operation: operation)
            try verifyDigest(response.body, digest, registry: registry, operation: operation)
            if response.body.count <= configuration.blobCacheMaxBlobBytes {
                blobs.set(key, response.body, ttl: .infinity, cost: response.body.count)
            }
            return response.body
        }
        guard body.count <= limit else {
            throw RegistryError(.tooLarge, registry: registry, operation: "blob \(repository)@\(digest)", detail: "blob is \(body.count) bytes, limit \(limit)")
        }
        return body
    }

    // MARK: - Signatures and attestations

    /// Which cosign tag-scheme attachments to look for.
    public enum Attachment: String, Sendable {
        case signature = "sig", attestation = "att", sbom = "sbom"
    }

    /// The cosign tag-scheme tag for a digest: `sha256-<hex>.sig` / `.att` / `.sbom`.
    public static func cosignTag(for digest: String, _ attachment: Attachment) -> String {
        // On bytes: Foundation's replacingOccurrences cost 50k instructions, twice per cold image.
        String(decoding: digest.utf8.map { $0 == UInt8(ascii: ":") ? UInt8(ascii: "-") : $0 }, as: UTF8.self) + "." + attachment.rawValue
    }

    /// The cosign tag-scheme manifest attached to `digest` (in `repository`, or cosign's
    /// `COSIGN_REPOSITORY`-style override); nil when nothing is attached.
    public func cosignAttachment(_ attachment: Attachment, registry: String, repository: String, digest: String,
                                 deadline: Deadline) throws -> Manifest? {
        let tag = Self.cosignTag(for: digest, attachment)
        let key = cacheScope(registry) + "tag \(registry)/\(repository):\(tag)"
        return try cachedAttachments(key) {
            do {
                return [try getManifest(registry: registry, repository: repository, reference: tag, deadline: deadline)]
            } catch let error as RegistryError where error.kind == .notFound {
                return []
            }
        }.first
    }

    /// Manifests that name `digest` as their subject: the OCI 1.1 referrers API, or the referrers
    /// tag schema (`sha256-<hex>` index) on registries without it. Optionally filtered by artifactType.
    public func referrers(registry: String, repository: String, digest: String, artifactType: String? = nil,
                          deadline: Deadline) throws -> [Manifest] {
        let key = cacheScope(registry) + "referrers \(registry)/\(repository)@\(digest) \(artifactType ?? "*")"
        return try cachedAttachments(key) {
            let descriptors = try referrerDescriptors(registry: registry, repository: repository, digest: digest,
                                                      artifactType: artifactType, deadline: deadline)
            return try descriptors.map {
                try manifest(registry: registry, repository: repository, reference: $0.digest, deadline: deadline)
            }
        }
    }

    private func referrerDescriptors(registry: String, repository: String, digest: String, artifactType: String?,
                                     deadline: Deadline) throws -> [Descriptor] {
        let operation = "referrers \(repository)@\(digest)"
        var path = "/v2/\(repository)/referrers/\(digest)"
        if let artifactType { path += "?artifactType=" + (artifactType.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? artifactType) }
        let response = try request(registry: registry, repository: repository, method: "GET", path: path, accept: MediaType.ociIndex,
                                   maxBody: configuration.maxManifestBytes, operation: operation, deadline: deadline)
        var index: Manifest?
        var filtered = false
        if response.status == 200 {
            index = try parseManifest(response, registry: registry, operation: operation, expectedDigest: nil)
            filtered = response.header("oci-filters-applied")?.contains("artifactType") == true
        } else if response.status == 404 || response.status == 405 {
            // No referrers API: the fallback tag holds an index of referrers.
            let fallback = digest.replacingOccurrences(of: ":", with: "-")
            do {
                index = try getManifest(registry: registry, repository: repository, reference: fallback, deadline: deadline)
            } catch let error as RegistryError where error.kind == .notFound {
                return []
            }
        } else {
            try expectStatus(response, [200], registry: registry, operation: operation)
        }
        let all = index?.manifests ?? []
        guard let artifactType, !filtered else { return all }
        return all.filter { $0.artifactType == artifactType }
    }

    private func cachedAttachments(_ key: String, _ fetch: () throws -> [Manifest]) throws -> [Manifest] {
        if let hit = attachments.get(key) { return hit }
        return try attachmentFlight.run(key) {
            if let hit = attachments.get(key) { return hit }
            let found = try fetch()
            attachments.set(key, found, ttl: configuration.attachmentTTL)
            return found
        }
    }

    // MARK: - Push (signing, `save`, tests)

    /// Uploads a blob (monolithic) unless the registry already has it; returns its descriptor.
    @discardableResult
    public func pushBlob(registry: String, repository: String, bytes: [UInt8], mediaType: String = "application/octet-stream",
                         deadline: Deadline) throws -> Descriptor {
        let digest = Self.sha256Digest(bytes)
        let descriptor = Descriptor(mediaType: mediaType, digest: digest, size: bytes.count)
        let operation = "push blob \(repository)@\(digest)"
        let head = try request(registry: registry, repository: repository, method: "HEAD", path: "/v2/\(repository)/blobs/\(digest)",
                               accept: nil, maxBody: 0, operation: operation, push: true, deadline: deadline)
        if head.status == 200 { return descriptor }
        let start = try request(registry: registry, repository: repository, method: "POST", path: "/v2/\(repository)/blobs/uploads/",
                                accept: nil, maxBody: 1 << 16, operation: operation, push: true, deadline: deadline)
        try expectStatus(start, [202], registry: registry, operation: operation)
        guard let location = start.header("location") else {
            throw RegistryError(.malformed, registry: registry, operation: operation, detail: "upload started without a Location")
        }
        let uploadPath = Self.pathAndQuery(location)
        let separator = uploadPath.contains("?") ? "&" : "?"
        let put = try request(registry: registry, repository: repository, method: "PUT", path: uploadPath + separator + "digest=\(digest)",
                              accept: nil, body: bytes, contentType: "application/octet-stream", maxBody: 1 << 16,
                              operation: operation, push: true, deadline: deadline)
        try expectStatus(put, [201], registry: registry, operation: operation)
        return descriptor
    }

    /// Uploads a manifest under a tag or its digest; returns its descriptor.
    @discardableResult
    public func pushManifest(registry: String, repository: String, reference: String, bytes: [UInt8], mediaType: String,
                             deadline: Deadline) throws -> Descriptor {
        let digest = Self.sha256Digest(bytes)
        let operation = "push manifest \(repository):\(reference)"
        let put = try request(registry: registry, repository: repository, method: "PUT", path: "/v2/\(repository)/manifests/\(reference)",
                              accept: nil, body: bytes, contentType: mediaType, maxBody: 1 << 16, operation: operation, push: true,
                              deadline: deadline)
        try expectStatus(put, [201], registry: registry, operation: operation)
        if let returned = put.header("docker-content-digest"), returned != digest {
            throw RegistryError(.digestMismatch, registry: registry, operation: operation, detail: "registry stored \(returned), expected \(digest)")
        }
        tags.removeAll()
        attachments.removeAll()
        return Descriptor(mediaType: mediaType, digest: digest, size: bytes.count)
    }

    public static func sha256Digest(_ bytes: [UInt8]) -> String {
        "sha256:" + Hex.lowercase(SHA256.hash(data: bytes))
    }


    // MARK: - Manifest requests

    private func headManifest(registry: String, repository: String, reference: String, deadline: Deadline) throws -> Descriptor {
        let operation = "manifest \(repository):\(reference)"
        let response = try request(registry: registry, repository: repository, method: "HEAD", path: "/v2/\(repository)/manifests/\(reference)",
                                   accept: MediaType.manifestAccept, maxBody: 0, operation: operation, deadline: deadline)
        if response.status == 200, let digest = response.header("docker-content-digest"), Self.isValidDigest(digest) {
            let type = response.header("content-type").map { String($0.split(separator: ";")[0]) } ?? ""
            return Descriptor(mediaType: type, digest: digest, size: Int(response.header("content-length") ?? "") ?? 0)
        }
        if response.status != 200 && response.status != 405 { try expectStatus(response, [200], registry: registry, operation: operation) }
        // No usable digest header (or no HEAD): fetch the body and hash it.
        let manifest = try getManifest(registry: registry, repository: repository, reference: reference, deadline: deadline)
        return Descriptor(mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.count)
    }

    private func getManifest(registry: String, repository: String, reference: String, deadline: Deadline) throws -> Manifest {
        let operation = "manifest \(repository)\(reference.hasPrefix("sha256:") ? "@" : ":")\(reference)"
        let response = try request(registry: registry, repository: repository, method: "GET", path: "/v2/\(repository)/manifests/\(reference)",
                                   accept: MediaType.manifestAccept, maxBody: configuration.maxManifestBytes, operation: operation, deadline: deadline)
        try expectStatus(response, [200], registry: registry, operation: operation)
        let expected = reference.hasPrefix("sha256:") ? reference : response.header("docker-content-digest")
        return try parseManifest(response, registry: registry, operation: operation, expectedDigest: expected)
    }

    private func parseManifest(_ response: HTTPResponse, registry: String, operation: String, expectedDigest: String?) throws -> Manifest {
        let digest = Self.sha256Digest(response.body)
        if let expectedDigest, expectedDigest.hasPrefix("sha256:"), expectedDigest != digest {
            throw RegistryError(.digestMismatch, registry: registry, operation: operation,
                                detail: "content hashes to \(digest), registry said \(expectedDigest)")
        }
        do {
            return try Manifest(bytes: response.body, digest: digest, contentType: response.header("content-type"))
        } catch let error as ManifestError {
            throw RegistryError(.malformed, registry: registry, operation: operation, detail: error.detail)
        }
    }

    // MARK: - Credentials

    /// Whose access a cached answer reflects: the request's own credential for `registry` ("" for sealgate's own).
    /// Part of every cache key, so a request without a pull secret never reads what one with it fetched.
    private func cacheScope(_ registry: String) -> String {
        RequestCredentials.current?.credential(for: registry).map { "\($0.identity)|" } ?? ""
    }

    /// The request's pull secrets first, then `config.json` (and its helpers), the policies' pull secrets, providers.
    private func credential(for registry: String, operation: String, deadline: Deadline) throws -> Credential? {
        if let own = RequestCredentials.current?.credential(for: registry) { return own.credential }
        do {
            if let configured = try configuration.credentials.lookup(for: registry) { return configured }
        } catch {
            throw RegistryError(.unauthorized, registry: registry, operation: operation, detail: "\(error)")
        }
        if let fallback = configuration.credentialFallback?(registry) { return fallback }
        for provider in configuration.providers where provider.serves(registry: registry) {
            do {
                if let minted = try provider.credential(for: registry, deadline: deadline) { return minted }
            } catch let error as RegistryError {
                throw error
            } catch {
                throw RegistryError(.unauthorized, registry: registry, operation: operation, detail: "\(provider.name) credentials: \(error)")
            }
        }
        return nil
    }

    // MARK: - Transport, auth, retries

    private func request(registry: String, repository: String, method: String, path: String, accept: String?,
                         body: [UInt8] = [], contentType: String? = nil, maxBody: Int, operation: String,
                         push: Bool = false, deadline: Deadline) throws -> HTTPResponse {
        var endpoint = self.endpoint(for: registry)
        let scope = "repository:\(repository):\(push ? "pull,push" : "pull")"
        let credential = try self.credential(for: registry, operation: operation, deadline: deadline)
        var target = path
        var authorization = auth.cachedAuthorization(registry: registry, scope: scope, credential: credential)
        var authenticated = false
        var redirects = 0
        var rateLimitRetries = 0
        while true {
            var headers: [(String, String)] = []
            if let accept { headers.append(("accept", accept)) }
            if let contentType { headers.append(("content-type", contentType)) }
            if let authorization { headers.append(("authorization", authorization)) }
            let response = try send(endpoint, method: method, target: target, headers: headers, body: body, maxBody: maxBody,
                                    registry: registry, operation: operation, deadline: deadline)
            switch response.status {
            case 401 where !authenticated:
                authenticated = true
                authorization = try answerChallenge(response, registry: registry, scope: scope, credential: credential,
                                                    operation: operation, deadline: deadline)
            case 301, 302, 303, 307, 308 where method == "GET" || method == "HEAD":
                redirects += 1
                guard redirects <= 5, let location = response.header("location") else {
                    throw RegistryError(.malformed, registry: registry, operation: operation, detail: "too many redirects or redirect without Location")
                }
                if let url = URL(string: location), let host = url.host {
                    let secure = url.scheme == "https"
                    let next = Endpoint(host: host, port: UInt16(url.port ?? (secure ? 443 : 80)), secure: secure)
                    // Blob storage behind a redirect gets no registry credentials.
                    if next != endpoint { authorization = nil }
                    endpoint = next
                }
                target = Self.pathAndQuery(location)
            case 429:
                let wait = Double(response.header("retry-after") ?? "") ?? 1
                rateLimitRetries += 1
                guard rateLimitRetries <= 3, wait < deadline.remaining - 0.05 else {
                    throw RegistryError(.rateLimited, registry: registry, operation: operation,
                                        detail: "429 Too Many Requests (retry after \(wait) s does not fit the deadline)")
                }
                usleep(UInt32(max(0, wait) * 1_000_000))
            default:
                return response
            }
        }
    }

    private func answerChallenge(_ response: HTTPResponse, registry: String, scope: String, credential: Credential?,
                                 operation: String, deadline: Deadline) throws -> String {
        guard let header = response.header("www-authenticate"), let challenge = Authenticator.parseChallenge(header) else {
            throw RegistryError(.unauthorized, registry: registry, operation: operation, detail: "401 without a usable WWW-Authenticate challenge")
        }
        switch challenge.scheme {
        case "basic":
            guard let credential else {
                throw RegistryError(.unauthorized, registry: registry, operation: operation, detail: "registry requires credentials and none are configured")
            }
            auth.rememberBasic(registry: registry)
            return auth.basic(credential)
        case "bearer":
            return "Bearer " + (try fetchToken(challenge, registry: registry, scope: scope, credential: credential, deadline: deadline))
        default:
            throw RegistryError(.unsupported, registry: registry, operation: operation, detail: "auth scheme \"\(challenge.scheme)\"")
        }
    }

    private func fetchToken(_ challenge: Authenticator.Challenge, registry: String, scope: String, credential: Credential?,
                            deadline: Deadline) throws -> String {
        let operation = "token for \(scope)"
        guard let (endpoint, target, realm) = BearerToken.request(challenge, scope: scope) else {
            throw RegistryError(.unauthorized, registry: registry, operation: operation, detail: "Bearer challenge without a valid realm")
        }
        guard endpoint.secure || configuration.insecureRegistries.contains(registry) else {
            throw RegistryError(.unauthorized, registry: registry, operation: operation, detail: "refusing to send credentials to non-TLS realm \(realm)")
        }
        var headers: [(String, String)] = []
        if let credential { headers.append(("authorization", auth.basic(credential))) }
        let response = try send(endpoint, method: "GET", target: target,
                                headers: headers, maxBody: 1 << 20, registry: registry, operation: operation, deadline: deadline)
        guard response.status == 200 else {
            throw RegistryError(response.status == 401 || response.status == 403 ? .unauthorized : .serverError, registry: registry,
                                operation: operation, detail: "token server \(endpoint.host) answered \(response.status)")
        }
        guard let (token, expiresIn) = BearerToken.token(from: response.body) else {
            throw RegistryError(.malformed, registry: registry, operation: operation, detail: "token response has no token")
        }
        auth.store(token: token, expiresIn: expiresIn, registry: registry, scope: scope, credential: credential)
        return token
    }

    private func send(_ endpoint: Endpoint, method: String, target: String, headers: [(String, String)], body: [UInt8] = [],
                      maxBody: Int, registry: String, operation: String, deadline: Deadline) throws -> HTTPResponse {
        guard !deadline.hasPassed else {
            throw RegistryError(.timeout, registry: registry, operation: operation, detail: "deadline passed before the request")
        }
        let started = Deadline.now()
        var outcome = "error"
        defer {
            // Handles made once per label set (MetricHandles), not per request.
            MetricHandles.shared.counter("sealgate_registry_requests_total", [("registry", registry), ("result", outcome)]).increment()
            MetricHandles.shared.timer("sealgate_registry_request_duration_seconds", [("registry", registry)])
                .recordNanoseconds(Int64((Deadline.now() - started) * 1e9))
        }
        do {
            let response = try http.send(endpoint, method: method, target: target, headers: headers, body: body, maxBody: maxBody, deadline: deadline)
            outcome = String(response.status)
            return response
        } catch let error as HTTPClientError {
            switch error {
            case .timeout(let what): throw RegistryError(.timeout, registry: registry, operation: operation, detail: "timed out (\(what))")
            case .unreachable(let why): throw RegistryError(.unreachable, registry: registry, operation: operation, detail: why)
            case .tls(let why): throw RegistryError(.tls, registry: registry, operation: operation, detail: why)
            case .malformed(let why): throw RegistryError(.malformed, registry: registry, operation: operation, detail: why)
            case .tooLarge(let size): throw RegistryError(.tooLarge, registry: registry, operation: operation, detail: "\(size) bytes exceeds the limit of \(maxBody)")
            }
        }
    }

    private func expectStatus(_ response: HTTPResponse, _ expected: Set<Int>, registry: String, operation: String) throws {
        guard !expected.contains(response.status) else { return }
        let snippet = String(decoding: response.body.prefix(200), as: UTF8.self)
        let detail = "HTTP \(response.status)" + (snippet.isEmpty ? "" : ": \(snippet)")
        switch response.status {
        case 404: throw RegistryError(.notFound, registry: registry, operation: operation, detail: detail)
        case 401, 403: throw RegistryError(.unauthorized, registry: registry, operation: operation, detail: detail)
        case 429: throw RegistryError(.rateLimited, registry: registry, operation: operation, detail: detail)
        case 500...599: throw RegistryError(.serverError, registry: registry, operation: operation, detail: detail)
        default: throw RegistryError(.malformed, registry: registry, operation: operation, detail: "unexpected \(detail)")
        }
    }

    private func verifyDigest(_ bytes: [UInt8], _ digest: String, registry: String, operation: String) throws {
        guard digest.hasPrefix("sha256:") else {
            throw RegistryError(.unsupported, registry: registry, operation: operation, detail: "digest algorithm of \(digest)")
        }
        let actual = Self.sha256Digest(bytes)
        guard actual == digest else {
            throw RegistryError(.digestMismatch, registry: registry, operation: operation, detail: "content hashes to \(actual)")
        }
    }

    private func endpoint(for registry: String) -> Endpoint {
        // Docker Hub's API lives on registry-1.docker.io; `index.docker.io` is its name in references.
        let apiHost = registry == ImageRef.dockerHubRegistry ? "registry-1.docker.io" : registry
        let secure = !configuration.insecureRegistries.contains(registry)
        var host = apiHost
        var port: UInt16 = secure ? 443 : 80
        if let colon = apiHost.lastIndex(of: ":"), !apiHost.hasSuffix("]"), let p = UInt16(apiHost[apiHost.index(after: colon)...]) {
            host = String(apiHost[..<colon])
            port = p
        } else if apiHost.hasPrefix("["), let close = apiHost.lastIndex(of: "]") {
            host = String(apiHost[apiHost.index(after: apiHost.startIndex)..<close])
            if let p = UInt16(apiHost[apiHost.index(after: close)...].dropFirst()) { port = p }
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return Endpoint(host: host, port: port, secure: secure)
    }

    static func pathAndQuery(_ location: String) -> String {
        if let url = URL(string: location), url.host != nil {
            return url.path + (url.query.map { "?" + $0 } ?? "")
        }
        return location
    }

    static func isValidDigest(_ digest: String) -> Bool {
        let bytes = digest.utf8
        // ASCII (every real digest) by bytes: Character counting and properties were 2% of a cold image.
        // Anything else as before, by Characters.
        guard bytes.allSatisfy({ $0 < 0x80 }) else {
            return digest.hasPrefix("sha256:") && digest.count == 71 && digest.dropFirst(7).allSatisfy { $0.isHexDigit && !$0.isUppercase }
        }
        return bytes.count == 71 && bytes.starts(with: "sha256:".utf8)
            && bytes.dropFirst(7).allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
