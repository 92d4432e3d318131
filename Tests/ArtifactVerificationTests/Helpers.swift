import Foundation
import SigstoreTestSupport
import SigstoreVerify
import TestSupport

/// A temp directory with a test Sigstore's trusted root, and a runner for the real `sealgate` binary.
final class ArtifactEnv {
    let dir: URL
    let sigstore = TestSigstore()
    let rootPath: String

    static let san = "https://github.com/sealgate/test/.github/workflows/release.yml@refs/heads/main"
    static let issuer = "https://token.actions.githubusercontent.com"
    static var identityFlags: [String] { ["--certificate-identity", san, "--certificate-oidc-issuer", issuer] }

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("artifacts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        rootPath = dir.appendingPathComponent("trusted_root.json").path
        try sigstore.trustedRootJSON().write(to: URL(fileURLWithPath: rootPath))
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    @discardableResult
    func write(_ data: Data, _ name: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        return url.path
    }

    func write(_ text: String, _ name: String) throws -> String { try write(Data(text.utf8), name) }

    /// Signing options at a recent time (certificates are short-lived; the SET proves the time).
    func options(identity: TestIdentity = .githubWorkflow) -> TestSigstore.Options {
        var o = sigstore.options(at: Date().addingTimeInterval(-3600))
        o.identity = identity
        return o
    }

    func sealgate(_ arguments: [String]) throws -> ProcessOutput {
        try Subprocess.run(TestPaths.sealgateBinary.path, arguments, timeout: 60)
    }
}

extension Data {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
