/// Policies the end-to-end suites write: one keyless ClusterImagePolicy over a glob of the world's registry.
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
}
