import Foundation

/// slsa-verifier's trust in the workflow that signed provenance (verifiers/internal/gha/builder.go): without
/// `--builder-id` only slsa-github-generator's own builders are trusted; with it, the signer must be that
/// builder. A trusted BYOB delegator signs on behalf of the builder its provenance names.
public enum SLSABuilderTrust {
    static let generator = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/"
    static let delegators: Set<String> = [generator + "delegator_generic_slsa3.yml", generator + "delegator_lowperms-generic_slsa3.yml"]
    static let trusted: Set<String> = delegators.union([
        generator + "generator_generic_slsa3.yml", generator + "builder_go_slsa3.yml",
        generator + "builder_docker-based_slsa3.yml", generator + "builder_container-based_slsa3.yml",
        generator + "generator_container_slsa3.yml",
        generator + "builder_nodejs_slsa3.yml",
    ])

    /// The builder the provenance is attributed to, given the signing certificate's identity
    /// (`https://github.com/org/repo/.github/workflows/x.yml@refs/tags/v1.2.3`).
    public static func builder(signer: String, provenanceBuilder: String, expected: String?) throws -> String {
        guard let at = signer.lastIndex(of: "@") else {
            throw ProvenanceError.mismatch(field: "builder id (signing certificate)", expected: "a workflow identity NAME@REF", found: signer)
        }
        let name = String(signer[..<at]), ref = String(signer[signer.index(after: at)...])
        let isDelegator = delegators.contains(name)
        if let expected, !expected.isEmpty {
            // The user names the builder: the signer must be it, or a trusted delegator acting for it.
            guard matches(expected, name: name, ref: ref) || isDelegator else {
                throw ProvenanceError.mismatch(field: "builder id (signing certificate)", expected: expected, found: signer)
            }
        } else {
            guard trusted.contains(name) else {
                throw ProvenanceError.mismatch(field: "builder id", expected: "a trusted slsa-github-generator builder (or pass --builder-id)", found: signer)
            }
        }
        // Builders are used at release tags: a branch or a partial version could change under the same name.
        guard ref.hasPrefix("refs/tags/"), let v = SemVer(String(ref.dropFirst(10))), v.parts.count == 3, v.prerelease == nil,
              ref.dropFirst(10).hasPrefix("v"), !ref.contains("+") else {
            throw ProvenanceError.mismatch(field: "builder ref (signing certificate)", expected: "refs/tags/vX.Y.Z", found: ref)
        }
        guard isDelegator else {
            // The signing workflow is the builder, and the provenance must say so.
            guard provenanceBuilder == signer else {
                throw ProvenanceError.mismatch(field: "builder id (signing certificate)", expected: signer, found: provenanceBuilder)
            }
            return signer
        }
        if let expected, !expected.isEmpty, !matches(expected, builderID: provenanceBuilder) {
            throw ProvenanceError.mismatch(field: "builder id", expected: expected, found: provenanceBuilder)
        }
        return provenanceBuilder
    }

    /// slsa-verifier `MatchesLoose`: `NAME` pins the builder only, `NAME@v1.2.3` also matches `@refs/tags/v1.2.3`.
    public static func matches(_ expected: String, builderID: String) -> Bool {
        guard let at = builderID.lastIndex(of: "@") else { return expected == builderID }
        return matches(expected, name: String(builderID[..<at]), ref: String(builderID[builderID.index(after: at)...]))
    }

    static func matches(_ expected: String, name: String, ref: String) -> Bool {
        guard let at = expected.lastIndex(of: "@") else { return expected == name }
        let version = String(expected[expected.index(after: at)...])
        return String(expected[..<at]) == name && (version == ref || "refs/tags/" + version == ref)
    }
}
