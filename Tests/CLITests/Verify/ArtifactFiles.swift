import E2ESupport
import Foundation
import SigstoreTestSupport

/// Blobs, bundles and keys for the artifact commands (verify-blob, verify-provenance), written into the world.
extension E2EWorld {
    static var identityFlags: [String] { ["--certificate-identity", subject, "--certificate-oidc-issuer", issuer] }

    /// Writes `data` as `name` in the world's directory; returns the path.
    @discardableResult
    func file(_ data: Data, _ name: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    func file(_ text: String, _ name: String) throws -> String { try file(Data(text.utf8), name) }

    /// Signing options at a recent time (certificates are short-lived; the SET proves the time).
    func recentOptions(identity: TestIdentity = .githubWorkflow) -> TestSigstore.Options {
        var options = sigstore.options(at: Date().addingTimeInterval(-3600))
        options.identity = identity
        return options
    }
}

extension Data {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
