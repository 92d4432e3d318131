import Foundation

/// Debian's `notary-server` and `notary-signer` (Notary v1, 0.7) on 127.0.0.1 with TLS from `pki` (server → signer
/// over mutual TLS), in-memory storage, and the `notary` CLI against them with its own trust directory, signing
/// keys unlocked by passphrase environment variables. Started and stopped by a test.
public final class NotaryService: @unchecked Sendable {
    public let directory: URL
    public let port: UInt16
    public let pki: TestPKI
    private var signer: BackgroundProcess?
    private var server: BackgroundProcess?
    public var url: String { "https://127.0.0.1:\(port)" }
    public var caFile: String { pki.caCertificate }
    public var trustDirectory: String { directory.appendingPathComponent("trust").path }

    static let passphrases = ["NOTARY_ROOT_PASSPHRASE": "root-pass", "NOTARY_TARGETS_PASSPHRASE": "targets-pass",
                              "NOTARY_SNAPSHOT_PASSPHRASE": "snapshot-pass", "NOTARY_DELEGATION_PASSPHRASE": "delegation-pass"]

    public init(pki: TestPKI) throws {
        for tool in ["notary", "notary-server", "notary-signer"] where Subprocess.which(tool) == nil {
            throw LocalRegistry.Unavailable(description: "\(tool) is not installed (apt-get install notary)")
        }
        self.pki = pki
        directory = try makeTemporaryDirectory("notary")
        port = try freeLoopbackPort()
        let signerPort = try freeLoopbackPort()
        let serverCert = try pki.issueServerCertificate(name: "notary-server-\(port)", serial: UInt64(port), clientAuth: true)
        let signerCert = try pki.issueServerCertificate(name: "notary-signer-\(signerPort)", serial: UInt64(signerPort))
        let signerConfig = """
        {"server": {"grpc_addr": "127.0.0.1:\(signerPort)", "tls_cert_file": "\(signerCert.certificate)",
                    "tls_key_file": "\(signerCert.key)", "client_ca_file": "\(pki.caCertificate)"},
         "logging": {"level": "warn"}, "storage": {"backend": "memory", "default_alias": "testalias"}}
        """
        let serverConfig = """
        {"server": {"http_addr": "127.0.0.1:\(port)", "tls_cert_file": "\(serverCert.certificate)", "tls_key_file": "\(serverCert.key)"},
         "trust_service": {"type": "remote", "hostname": "127.0.0.1", "port": "\(signerPort)", "key_algorithm": "ecdsa",
                           "tls_ca_file": "\(pki.caCertificate)", "tls_client_cert": "\(serverCert.certificate)", "tls_client_key": "\(serverCert.key)"},
         "logging": {"level": "warn"}, "storage": {"backend": "memory"}}
        """
        let signerPath = directory.appendingPathComponent("signer.json").path
        let serverPath = directory.appendingPathComponent("server.json").path
        try signerConfig.write(toFile: signerPath, atomically: true, encoding: .utf8)
        try serverConfig.write(toFile: serverPath, atomically: true, encoding: .utf8)
        signer = try BackgroundProcess("notary-signer", ["-config", signerPath], environment: ["NOTARY_SIGNER_TESTALIAS": "signer-pass"])
        server = try BackgroundProcess("notary-server", ["-config", serverPath])
        try waitUntilHealthy()
    }

    deinit { stop() }

    /// notary-server answers its health check (which includes reaching the signer), within 30 s.
    private func waitUntilHealthy() throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let r = try Subprocess.run("curl", ["-sf", "--max-time", "2", "--cacert", caFile, "\(url)/_notary_server/health"], timeout: 10)
            if r.status == 0 { return }
            usleep(200_000)
        }
        throw LocalRegistry.Unavailable(description: "notary-server did not become healthy: \(server?.stderr ?? "") \(signer?.stderr ?? "")")
    }

    public func stop() {
        server?.stop()
        signer?.stop()
    }

    /// Runs the `notary` CLI against this server; throws with its output when it fails.
    @discardableResult
    public func notary(_ arguments: [String]) throws -> String {
        let r = try Subprocess.run("notary", ["-s", url, "-d", trustDirectory, "--tlscacert", caFile] + arguments,
                                   environment: Self.passphrases, timeout: 60)
        guard r.status == 0 else {
            throw LocalRegistry.Unavailable(description: "notary \(arguments.joined(separator: " ")) failed: \(r.stdout) \(r.stderr)\nserver: \(server?.stderr.suffix(2000) ?? "")\nsigner: \(signer?.stderr.suffix(2000) ?? "")")
        }
        return r.stdout
    }

    /// `notary init` for `gun` (root, targets and snapshot keys made by the CLI; timestamp by the server).
    public func initialize(gun: String) throws {
        // The server answers its health check before its signer connection is up; init is retried for that (≤ 20 s).
        let deadline = Date().addingTimeInterval(20)
        while true {
            do { try notary(["init", gun]); break } catch where Date() < deadline { usleep(300_000) }
        }
        try notary(["publish", gun])
    }

    /// Signs `tag` → `sha256:<hex>` of `size` bytes (in `role` when given, e.g. `targets/releases`) and publishes.
    public func sign(gun: String, tag: String, digest: String, size: Int, role: String? = nil) throws {
        let hex = digest.hasPrefix("sha256:") ? String(digest.dropFirst(7)) : digest
        try notary(["addhash", gun, tag, String(size), "--sha256", hex] + (role.map { ["--roles", $0] } ?? []))
        try notary(["publish", gun])
    }

    /// Adds delegation `role` (all paths) with a fresh key and certificate, imports the key for signing, publishes.
    public func addDelegation(gun: String, role: String) throws {
        let base = directory.appendingPathComponent(role.replacingOccurrences(of: "/", with: "_")).path
        try TestPKI.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", base + ".key",
                             "-out", base + ".crt", "-days", "2", "-subj", "/CN=\(role.replacingOccurrences(of: "/", with: "-"))"])
        try notary(["delegation", "add", gun, role, base + ".crt", "--all-paths"])
        try notary(["key", "import", base + ".key", "--role", role])
        try notary(["publish", gun])
    }

    /// The repository's root public key (PEM), from the CLI's encrypted root key: what Connaisseur pins.
    public func rootPublicKeyPEM() throws -> String {
        let privateDir = URL(fileURLWithPath: trustDirectory).appendingPathComponent("private")
        for name in try FileManager.default.contentsOfDirectory(atPath: privateDir.path) {
            let text = try String(contentsOf: privateDir.appendingPathComponent(name), encoding: .utf8)
            guard text.contains("role: root") else { continue }
            // notary writes PEM headers (role:, gun:) that openssl does not read: drop them.
            let pem = text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.contains(": ") && !$0.isEmpty }.joined(separator: "\n")
            let r = try Subprocess.run("openssl", ["pkey", "-passin", "pass:\(Self.passphrases["NOTARY_ROOT_PASSPHRASE"]!)", "-pubout"],
                                       stdin: Data(pem.utf8), timeout: 20)
            guard r.status == 0 else { throw LocalRegistry.Unavailable(description: "openssl pkey: \(r.stderr)") }
            return r.stdout
        }
        throw LocalRegistry.Unavailable(description: "no root key in \(privateDir.path)")
    }

    /// A role file exactly as the server serves it.
    public func metadata(gun: String, role: String) throws -> Data {
        let r = try Subprocess.run("curl", ["-sf", "--max-time", "5", "--cacert", caFile, "\(url)/v2/\(gun)/_trust/tuf/\(role).json"], timeout: 10)
        guard r.status == 0 else { throw LocalRegistry.Unavailable(description: "fetching \(role).json failed") }
        return Data(r.stdout.utf8)
    }
}
