import Foundation

/// The facts slsa-verifier checks, read from a SLSA provenance predicate (v0.2 or v1).
public struct SLSAProvenance: Sendable, Hashable {
    public static let v02 = "https://slsa.dev/provenance/v0.2"
    public static let v1 = "https://slsa.dev/provenance/v1"

    public var predicateType: String
    public var builderID: String
    /// As recorded, e.g. `git+https://github.com/org/repo@refs/tags/v1.2.3` or `https://github.com/org/repo`.
    public var sourceURI: String
    /// Full git ref (`refs/tags/v1.2.3`, `refs/heads/main`), if the provenance records one.
    public var sourceRef: String?
    /// Source commit (gitCommit / sha1), if recorded.
    public var sourceCommit: String?

    public init(predicateType: String, builderID: String, sourceURI: String, sourceRef: String?, sourceCommit: String?) {
        self.predicateType = predicateType; self.builderID = builderID; self.sourceURI = sourceURI
        self.sourceRef = sourceRef; self.sourceCommit = sourceCommit
    }

    /// Reads builder and source from an in-toto statement. v0.2: `builder.id`, `invocation.configSource`
    /// (falling back to `materials[0]`). v1: `runDetails.builder.id`; source from `externalParameters.source`
    /// (BYOB), `externalParameters.workflow` (slsa-github-generator / GitHub workflows) or `resolvedDependencies[0]`.
    public init(statement: InTotoStatement) throws {
        guard let p = try? JSONSerialization.jsonObject(with: statement.predicateJSON) as? [String: Any] else {
            throw ProvenanceError.malformed("predicate is not a JSON object")
        }
        func str(_ o: Any?, _ path: String...) -> String? {
            var cur = o
            for k in path { cur = (cur as? [String: Any])?[k] }
            return (cur as? String).flatMap { $0.isEmpty ? nil : $0 }
        }
        predicateType = statement.predicateType
        switch statement.predicateType {
        case Self.v02:
            guard let b = str(p, "builder", "id") else { throw ProvenanceError.malformed("v0.2 provenance has no builder.id") }
            builderID = b
            let material = (p["materials"] as? [[String: Any]])?.first
            guard let uri = str(p, "invocation", "configSource", "uri") ?? str(material, "uri") else {
                throw ProvenanceError.malformed("v0.2 provenance has no invocation.configSource.uri or materials[0].uri")
            }
            sourceURI = uri
            sourceRef = Self.ref(in: uri)
            sourceCommit = str(p, "invocation", "configSource", "digest", "sha1") ?? str(material, "digest", "sha1")
        case Self.v1:
            guard let b = str(p, "runDetails", "builder", "id") else { throw ProvenanceError.malformed("v1 provenance has no runDetails.builder.id") }
            builderID = b
            let ext = (p["buildDefinition"] as? [String: Any])?["externalParameters"]
            let dep = ((p["buildDefinition"] as? [String: Any])?["resolvedDependencies"] as? [[String: Any]])?.first
            if let uri = str(ext, "source", "uri") {
                sourceURI = uri
                sourceRef = Self.ref(in: uri)
                sourceCommit = str(ext, "source", "digest", "gitCommit") ?? str(ext, "source", "digest", "sha1")
            } else if let repo = str(ext, "workflow", "repository") {
                sourceURI = repo
                sourceRef = str(ext, "workflow", "ref") ?? str(dep, "uri").flatMap(Self.ref(in:))
                sourceCommit = str(dep, "digest", "gitCommit") ?? str(dep, "digest", "sha1")
            } else if let uri = str(dep, "uri") {
                sourceURI = uri
                sourceRef = Self.ref(in: uri)
                sourceCommit = str(dep, "digest", "gitCommit") ?? str(dep, "digest", "sha1")
            } else {
                throw ProvenanceError.malformed("v1 provenance records no source (externalParameters.source, externalParameters.workflow or resolvedDependencies)")
            }
        default:
            throw ProvenanceError.malformed("predicate type '\(statement.predicateType)' is not SLSA provenance v0.2 or v1")
        }
    }

    /// The `@ref` suffix of a `git+https://host/repo@refs/...` URI.
    static func ref(in uri: String) -> String? {
        guard let at = uri.lastIndex(of: "@") else { return nil }
        let r = String(uri[uri.index(after: at)...])
        return r.isEmpty ? nil : r
    }

    /// `git+https://github.com/org/repo.git@refs/tags/v1` and `github.com/org/repo` both become `github.com/org/repo`,
    /// so users can pass the short form slsa-verifier documents.
    public static func normalizeSourceURI(_ uri: String) -> String {
        var s = uri
        if s.hasPrefix("git+") { s.removeFirst(4) }
        if let scheme = s.range(of: "://") { s = String(s[scheme.upperBound...]) }
        if let at = s.lastIndex(of: "@") { s = String(s[..<at]) }
        while s.hasSuffix("/") { s.removeLast() }
        if s.hasSuffix(".git") { s.removeLast(4) }
        return s
    }
}

/// What the user expects (slsa-verifier flags).
public struct SLSAExpectations: Sendable {
    public var sourceURI: String
    public var builderID: String?
    public var sourceTag: String?
    public var sourceBranch: String?
    /// `v1`, `v1.2` or `v1.2.3[-pre]`: the provenance tag must be semver with these leading components.
    public var sourceVersionedTag: String?

    public init(sourceURI: String, builderID: String? = nil, sourceTag: String? = nil, sourceBranch: String? = nil, sourceVersionedTag: String? = nil) {
        self.sourceURI = sourceURI; self.builderID = builderID; self.sourceTag = sourceTag
        self.sourceBranch = sourceBranch; self.sourceVersionedTag = sourceVersionedTag
    }

    /// True for `v1`, `v1.2`, `v1.2.3`, `v1.2.3-rc.1` (the forms `--source-versioned-tag` accepts).
    public static func isValidVersionedTag(_ s: String) -> Bool { SemVer(s) != nil }
}

/// A provenance check that failed: which field, what was expected, what was found.
public enum ProvenanceError: Error, Equatable, CustomStringConvertible, Sendable {
    case malformed(String)
    case mismatch(field: String, expected: String, found: String)

    public var description: String {
        switch self {
        case .malformed(let s): return "malformed provenance: \(s)"
        case .mismatch(let f, let e, let found): return "\(f) mismatch: expected '\(e)', found '\(found)'"
        }
    }
}

extension SLSAProvenance {
    /// slsa-verifier's checks, in its order: builder, source URI, then tag / versioned tag / branch.
    public func check(_ x: SLSAExpectations) throws {
        if let want = x.builderID, !SLSABuilderTrust.matches(want, builderID: builderID) {
            throw ProvenanceError.mismatch(field: "builder id", expected: want, found: builderID)
        }
        guard Self.normalizeSourceURI(sourceURI) == Self.normalizeSourceURI(x.sourceURI) else {
            throw ProvenanceError.mismatch(field: "source URI", expected: x.sourceURI, found: sourceURI)
        }
        if let tag = x.sourceTag {
            guard sourceRef == "refs/tags/\(tag)" else {
                throw ProvenanceError.mismatch(field: "source tag", expected: tag, found: Self.describe(sourceRef))
            }
        }
        if let branch = x.sourceBranch {
            guard sourceRef == "refs/heads/\(branch)" else {
                throw ProvenanceError.mismatch(field: "source branch", expected: branch, found: Self.describe(sourceRef))
            }
        }
        if let want = x.sourceVersionedTag {
            guard let expected = SemVer(want) else {
                throw ProvenanceError.malformed("--source-versioned-tag '\(want)' is not vMAJOR[.MINOR[.PATCH]]")
            }
            let tag = sourceRef.flatMap { $0.hasPrefix("refs/tags/") ? String($0.dropFirst(10)) : nil }
            guard let tag, let actual = SemVer(tag), expected.isPrefix(of: actual) else {
                throw ProvenanceError.mismatch(field: "source versioned tag", expected: want, found: Self.describe(sourceRef))
            }
        }
    }

    /// A tag or branch as users write it; the raw ref otherwise.
    static func describe(_ ref: String?) -> String {
        guard let ref else { return "(no ref recorded)" }
        if ref.hasPrefix("refs/tags/") { return String(ref.dropFirst(10)) }
        if ref.hasPrefix("refs/heads/") { return "branch " + ref.dropFirst(11) }
        return ref
    }
}

/// Semantic version with optional minor/patch (missing parts only constrain when given), pre-release kept,
/// build metadata ignored (SemVer 2.0 §10).
struct SemVer: Equatable {
    var parts: [Int]
    var prerelease: String?

    init?(_ s: String) {
        var t = Substring(s)
        if t.hasPrefix("v") { t = t.dropFirst() }
        if let plus = t.firstIndex(of: "+") { t = t[..<plus] }
        var pre: String?
        if let dash = t.firstIndex(of: "-") {
            pre = String(t[t.index(after: dash)...])
            t = t[..<dash]
            guard let p = pre, !p.isEmpty else { return nil }
        }
        let nums = t.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...3).contains(nums.count) else { return nil }
        var out: [Int] = []
        for n in nums {
            guard !n.isEmpty, n.allSatisfy(\.isASCII), n.allSatisfy(\.isNumber), let v = Int(n) else { return nil }
            guard n == "0" || !n.hasPrefix("0") else { return nil }
            out.append(v)
        }
        // A pre-release only makes sense on a full version.
        if pre != nil && out.count != 3 { return nil }
        parts = out; prerelease = pre
    }

    /// `v1.2` matches `v1.2.x`; a full expected version must match exactly (pre-release included).
    func isPrefix(of actual: SemVer) -> Bool {
        let full = actual.parts + Array(repeating: 0, count: 3 - actual.parts.count)
        guard Array(full.prefix(parts.count)) == parts else { return false }
        if parts.count == 3 { return prerelease == actual.prerelease }
        return true
    }
}
