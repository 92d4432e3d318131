import Foundation
import Registry
import RegistryTestSupport
import SigstoreTestSupport
import TestSupport

/// What a test of the built product needs: a temporary directory (with an empty HOME), a test PKI for TLS, a test
/// Sigstore whose trusted_root.json is on disk, and optionally a loopback docker-registry with a client for it.
/// Signing lives in E2EWorld+Signing.swift, the server in E2EWorld+Server.swift.
public final class E2EWorld: @unchecked Sendable {
    /// Which registry the world starts.
    public enum RegistryMode {
        case none
        /// Plain HTTP; `accessLog` records every request (`registry.requests()`).
        case plain(accessLog: Bool = false)
        /// HTTPS with a certificate from the world's PKI and htpasswd users; the client trusts the CA and logs in.
        case tls(users: [String: String] = [:])
    }

    public let dir: URL
    /// HOME for every process the world starts: empty, so no docker or sigstore configuration leaks in.
    public let home: URL
    public let pki: TestPKI
    public let sigstore = TestSigstore()
    /// The test Sigstore's trusted_root.json.
    public let trustedRootFile: URL
    /// Nil only with `RegistryMode.none`.
    public let registry: LocalRegistry!
    public let client: RegistryClient!
    private let plainHTTP: Bool

    public init(_ name: String, registry mode: RegistryMode = .plain()) throws {
        dir = try makeTemporaryDirectory(name)
        home = dir.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        pki = try TestPKI()
        trustedRootFile = dir.appendingPathComponent("trusted_root.json")
        try sigstore.trustedRootJSON().write(to: trustedRootFile)
        switch mode {
        case .none:
            registry = nil
            client = nil
            plainHTTP = false
        case .plain(let accessLog):
            let started = try LocalRegistry(accessLog: accessLog)
            registry = started
            client = try started.client()
            plainHTTP = true
        case .tls(let users):
            let started = try LocalRegistry(tls: pki, users: users)
            registry = started
            plainHTTP = false
            var config = RegistryConfiguration()
            config.extraCAFile = pki.caCertificate
            for (user, password) in users {
                config.credentials.set(Credential(username: user, password: password), for: started.host)
            }
            client = try RegistryClient(configuration: config)
        }
    }

    deinit { registry?.stop() }

    public func stop() { registry?.stop() }

    /// `127.0.0.1:PORT` of the registry.
    public var host: String { registry.host }

    /// `host/repository` plus `suffix` (`:tag`, `@digest`).
    public func ref(_ repository: String, _ suffix: String = "") -> String { "\(host)/\(repository)\(suffix)" }

    /// The flags that make sealgate trust the test Sigstore (and reach a plain-HTTP registry).
    public var trustFlags: [String] {
        ["--trusted-root", trustedRootFile.path] + (plainHTTP ? ["--insecure-registry", host] : [])
    }

    /// Writes `text` to `name` under the world's directory (subdirectories created); returns the file.
    @discardableResult
    public func write(_ text: String, to name: String) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Runs the built `sealgate` with the world's HOME.
    public func sealgate(_ arguments: [String], stdin: Data? = nil, timeout: Double = 120) throws -> ProcessOutput {
        try SealgateCLI.run(arguments, stdin: stdin, environment: ["HOME": home.path, "COSIGN_REPOSITORY": ""], timeout: timeout)
    }
}
