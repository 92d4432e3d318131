import Foundation

/// SLSA provenance shaped like slsa-github-generator's generic generator output (v1 and v0.2), and the
/// certificate identity GitHub's OIDC token gives that generator's reusable workflow.
public struct SLSAProvenanceFixture: Sendable {
    public var repository = "sealgate/demo"
    public var ref = "refs/tags/v1.2.3"
    public var commit = "5bb13ef508b2b8ded49f9264d7712f1316830d10"
    public var builderID = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.0.0"
    public var workflowPath = ".github/workflows/release.yml"

    public init() {}

    public var repositoryURL: String { "https://github.com/\(repository)" }
    public var sourceURI: String { "git+\(repositoryURL)@\(ref)" }

    /// The generator's reusable workflow signs: SAN = builder id; source facts in the GitHub extensions.
    public var signerIdentity: TestIdentity {
        TestIdentity(san: .uri(builderID), issuer: "https://token.actions.githubusercontent.com", extensions: [
            2: "push", 3: commit, 4: "release", 5: repository, 6: ref,
            9: builderID, 12: repositoryURL, 13: commit, 14: ref,
        ])
    }

    /// In-toto v1 statement with a `https://slsa.dev/provenance/v1` predicate (github-actions workflow buildType).
    public func statementV1(subjects: [(name: String, sha256: Data)]) -> Data {
        let predicate: [String: Any] = [
            "buildDefinition": [
                "buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
                "externalParameters": ["workflow": ["ref": ref, "repository": repositoryURL, "path": workflowPath]],
                "internalParameters": ["github": ["event_name": "push", "repository_id": "123456", "repository_owner_id": "654321"]],
                "resolvedDependencies": [["uri": sourceURI, "digest": ["gitCommit": commit]]],
            ],
            "runDetails": [
                "builder": ["id": builderID],
                "metadata": ["invocationId": "\(repositoryURL)/actions/runs/1/attempts/1"],
            ],
        ]
        return statement("https://in-toto.io/Statement/v1", "https://slsa.dev/provenance/v1", predicate, subjects)
    }

    /// In-toto v0.1 statement with a `https://slsa.dev/provenance/v0.2` predicate.
    public func statementV02(subjects: [(name: String, sha256: Data)]) -> Data {
        let predicate: [String: Any] = [
            "builder": ["id": builderID],
            "buildType": "https://github.com/slsa-framework/slsa-github-generator/generic@v1",
            "invocation": ["configSource": ["uri": sourceURI, "digest": ["sha1": commit], "entryPoint": workflowPath],
                           "parameters": [:] as [String: Any], "environment": ["github_event_name": "push"]],
            "materials": [["uri": sourceURI, "digest": ["sha1": commit]]],
        ]
        return statement("https://in-toto.io/Statement/v0.1", "https://slsa.dev/provenance/v0.2", predicate, subjects)
    }

    func statement(_ type: String, _ predicateType: String, _ predicate: [String: Any], _ subjects: [(name: String, sha256: Data)]) -> Data {
        let obj: [String: Any] = [
            "_type": type, "predicateType": predicateType, "predicate": predicate,
            "subject": subjects.map { ["name": $0.name, "digest": ["sha256": $0.sha256.map { String(format: "%02x", $0) }.joined()]] },
        ]
        return try! JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes])
    }
}
