import Foundation
import ImageReference
import Registry
import RegistryTestSupport
import SigstoreTestSupport
import SigstoreVerify
import TestSupport

/// A local docker-registry, a test Sigstore (CA, CT log, Rekor-like log, TSA) with its trusted_root.json on
/// disk, and helpers to push/sign images and run the real `sealgate` binary with HOME in a temp dir.
final class VerifyEnvironment: @unchecked Sendable {
    let registry: LocalRegistry
    let client: RegistryClient
    let sigstore: TestSigstore
    let directory: URL
    let rootPath: String
    let home: String

    static let identity = TestIdentity.githubWorkflow
    static var subject: String {
        if case .uri(let u) = identity.san { return u }
        return ""
    }
    static var issuer: String { identity.issuer }

    let tls: Bool

    /// `pki`/`users`: a TLS registry with htpasswd basic auth (the client gets the CA and credentials).
    init(pki: TestPKI? = nil, users: [String: String] = [:]) throws {
        registry = try LocalRegistry(tls: pki, users: users)
        tls = pki != nil
        var config = RegistryConfiguration()
        if let pki {
            config.extraCAFile = pki.caCertificate
        } else {
            config.insecureRegistries = [registry.host]
        }
        for (user, password) in users {
            config.credentials.set(Credential(username: user, password: password), for: registry.host)
        }
        client = try RegistryClient(configuration: config)
        sigstore = TestSigstore()
        directory = try makeTemporaryDirectory("imgverify")
        rootPath = directory.appendingPathComponent("trusted_root.json").path
        try sigstore.trustedRootJSON().write(to: URL(fileURLWithPath: rootPath))
        let homeURL = directory.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: homeURL, withIntermediateDirectories: true)
        home = homeURL.path
    }

    func stop() { registry.stop() }

    var trustedRoot: TrustedRoot { try! sigstore.trustedRoot() }

    func ref(_ repository: String, _ suffix: String = "") -> String { "\(registry.host)/\(repository)\(suffix)" }

    func pushImage(_ repository: String, tag: String = "v1") throws -> TestImages.Pushed {
        try TestImages.pushImage(client, registry: registry.host, repository: repository, tag: tag)
    }

    func signer(_ repository: String) -> CosignImageSigner {
        let sink = TestImages.cosignSink(client, registry: registry.host, repository: repository)
        return CosignImageSigner(sigstore: sigstore, appendTagLayers: sink.appendTagLayers, pushReferrer: sink.pushReferrer)
    }

    /// Keyless signing now, with SCT, Rekor entry (SET + proof).
    func keyless(rfc3161: Bool = false, tlog: Bool = true) -> TestSigstore.Options {
        var o = sigstore.options(at: Date())
        o.rfc3161 = rfc3161
        o.tlog = tlog
        return o
    }

    /// Key-based signing with `key`.
    func keyed(_ key: SigningKey, tlog: Bool = true) -> TestSigstore.Options {
        var o = sigstore.options(at: Date())
        o.keyless = false
        o.signingKey = key
        o.tlog = tlog
        return o
    }

    func writeKey(_ key: SigningKey, name: String = UUID().uuidString) throws -> String {
        let path = directory.appendingPathComponent("\(name).pub").path
        try key.publicKeyPEM.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func write(_ text: String, name: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Flags for keyless verification against the test trusted root.
    var keylessFlags: [String] {
        ["--certificate-identity", Self.subject, "--certificate-oidc-issuer", Self.issuer, "--trusted-root", rootPath,
         "--insecure-registry", registry.host]
    }

    func keyFlags(_ path: String) -> [String] {
        ["--key", path, "--trusted-root", rootPath, "--insecure-registry", registry.host]
    }

    /// Runs the real sealgate binary.
    func sealgate(_ arguments: [String]) throws -> ProcessOutput {
        try Subprocess.run(TestPaths.sealgateBinary.path, arguments, environment: ["HOME": home, "COSIGN_REPOSITORY": ""], timeout: 60)
    }
}
