import E2ESupport

/// The `sealgate verify` flags for the world's test Sigstore and plain-HTTP registry.
extension E2EWorld {
    /// Keyless verification: the test identity, the test trusted root.
    var keylessFlags: [String] {
        ["--certificate-identity", Self.subject, "--certificate-oidc-issuer", Self.issuer] + trustFlags
    }

    /// Verification with the public key at `path`.
    func keyFlags(_ path: String) -> [String] { ["--key", path] + trustFlags }
}
