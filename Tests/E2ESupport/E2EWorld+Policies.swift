import Foundation

/// Policies the end-to-end suites write: keyless ClusterImagePolicies over a glob of the world's registry.
extension E2EWorld {
    /// A ClusterImagePolicy `name` requiring a keyless signature by the test issuer whose subject matches `subjectRegExp`.
    public static func keylessPolicy(name: String, glob: String, subjectRegExp: String) -> String {
        """
        apiVersion: policy.sigstore.dev/v1beta1
        kind: ClusterImagePolicy
        metadata: {name: \(name)}
        spec:
          images: [{glob: "\(glob)"}]
          authorities:
            - keyless:
                url: https://fulcio.example
                identities: [{issuer: "\(issuer)", subjectRegExp: "\(subjectRegExp)"}]
        """
    }

    /// A ClusterImagePolicy requiring images under `glob` to be keyless-signed by the world's test identity; written
    /// to `directory/p.yaml` under the world's directory, which is returned (for `--policy`).
    public func writeKeylessPolicy(glob: String, directory: String = "policies") throws -> URL {
        try write("""
            apiVersion: policy.sigstore.dev/v1beta1
            kind: ClusterImagePolicy
            metadata: {name: keyless}
            spec:
              images: [{glob: "\(glob)"}]
              authorities:
                - keyless:
                    url: https://fulcio.example
                    identities: [{issuer: "\(Self.issuer)", subject: "\(Self.subject)"}]
            """, to: "\(directory)/p.yaml").deletingLastPathComponent()
    }
}
