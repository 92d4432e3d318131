import Foundation

// ImageReference module: Docker/OCI image reference parsing and normalization.
//
// Follows the distribution/reference grammar with Docker's normalization:
//   reference := name [ ":" tag ] [ "@" digest ]
//   name      := [ domain "/" ] path-component ( "/" path-component )*
// `nginx` becomes `index.docker.io/library/nginx:latest`.

/// A parsed, normalized container image reference.
public struct ImageRef: Sendable, Hashable, CustomStringConvertible {
    /// Docker Hub's canonical registry name in this API (`docker.io` is accepted as an alias).
    public static let dockerHubRegistry = "index.docker.io"
    static let dockerHubAliases: Set<String> = ["docker.io", "index.docker.io", "registry-1.docker.io"]

    /// Registry host (with port if any), e.g. `index.docker.io`, `ghcr.io`, `localhost:5000`, `[::1]:5000`.
    public let registry: String
    /// Repository path inside the registry, e.g. `library/nginx`.
    public let repository: String
    /// Tag as written; `nil` when the input had none (see `effectiveTag`).
    public let tag: String?
    /// Digest such as `sha256:<64 hex>`; when present it wins for pulling, the tag is kept for display.
    public let digest: String?
    /// The input string this reference was parsed from.
    public let original: String
    /// Registry exactly as written in the input (`nil` when defaulted to Docker Hub).
    public let writtenRegistry: String?
    /// Repository path as written (without the implicit `library/` prefix).
    public let writtenRepository: String
    /// What to pull: `registry/repository@digest` when a digest is known, else `registry/repository:tag`.
    /// Stored: every policy glob is matched against it.
    public let pullReference: String

    /// Parses and normalizes `string`; throws `ImageReferenceError` naming the invalid part.
    public init(parsing string: String) throws(ImageReferenceError) {
        self = try ImageReferenceParser.parse(string)
    }

    init(registry: String, repository: String, tag: String?, digest: String?,
         original: String, writtenRegistry: String?, writtenRepository: String) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
        self.original = original
        self.writtenRegistry = writtenRegistry
        self.writtenRepository = writtenRepository
        pullReference = digest.map { "\(registry)/\(repository)@\($0)" } ?? "\(registry)/\(repository):\(tag ?? "latest")"
    }

    /// `tag`, or `latest` when neither a tag nor a digest was given.
    public var effectiveTag: String? { tag ?? (digest == nil ? "latest" : nil) }

    /// `registry/repository`.
    public var name: String { "\(registry)/\(repository)" }

    /// Fully normalized form: `registry/repository[:tag][@digest]`, with `:latest` added when neither is present.
    public var normalized: String {
        var s = name
        if let t = effectiveTag { s += ":\(t)" }
        if let d = digest { s += "@\(d)" }
        return s
    }

    /// The string policy-controller (ClusterImagePolicy) globs are matched against:
    /// go-containerregistry's `Reference.Name()` — the digest form drops the tag.
    public var policyMatchString: String { pullReference }

    /// The string Kyverno's `imageReferences` wildcards are matched against: registry as written
    /// (default `docker.io`), path as written (no implicit `library/`), then `@digest` or `:tag`.
    public var kyvernoMatchString: String {
        let reg = writtenRegistry ?? "docker.io"
        var s = "\(reg)/\(writtenRepository)"
        if let d = digest { s += "@\(d)" } else { s += ":\(tag ?? "latest")" }
        return s
    }

    /// The same image pinned to `digest` (validated); the tag is kept.
    public func withDigest(_ digest: String) throws(ImageReferenceError) -> ImageRef {
        try ImageReferenceParser.validateDigest(digest, input: original)
        return ImageRef(registry: registry, repository: repository, tag: tag, digest: digest,
                        original: original, writtenRegistry: writtenRegistry, writtenRepository: writtenRepository)
    }

    /// True when this reference points at Docker Hub.
    public var isDockerHub: Bool { registry == Self.dockerHubRegistry }

    public var description: String { normalized }
}

/// Why a reference string was rejected; the message names the invalid part and the input.
public struct ImageReferenceError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Part: String, Sendable {
        case reference, registry, repository, tag, digest, name
    }
    public let part: Part
    public let input: String
    public let reason: String

    public var description: String { "invalid image reference \"\(input)\": \(part.rawValue): \(reason)" }
}

extension ImageRef {
    private static let cache = ParseCache()

    /// `init(parsing:)` remembered by input string: admissions name the same few hundred images over and over, and a
    /// parse costs more than the rest of a warm decision about it. Bounded; errors are remembered too.
    public static func cached(parsing string: String) throws(ImageReferenceError) -> ImageRef {
        try cache.parse(string)
    }
}

/// A bounded map from reference strings to their parse results (emptied when full: no eviction bookkeeping on the hot path).
final class ParseCache: @unchecked Sendable {
    static let capacity = 4096
    private let lock = NSLock()
    private var results: [String: Result<ImageRef, ImageReferenceError>] = [:]

    func parse(_ string: String) throws(ImageReferenceError) -> ImageRef {
        lock.lock()
        let known = results[string]
        lock.unlock()
        if let known { return try known.get() }
        let result = Result { () throws(ImageReferenceError) -> ImageRef in try ImageReferenceParser.parse(string) }
        lock.lock()
        if results.count >= Self.capacity { results.removeAll(keepingCapacity: true) }
        results[string] = result
        lock.unlock()
        return try result.get()
    }
}
