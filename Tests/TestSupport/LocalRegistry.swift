import Foundation

/// Debian's `docker-registry` (distribution 2.8) on 127.0.0.1, started and stopped by a test.
public final class LocalRegistry: @unchecked Sendable {
    public let port: UInt16
    public let directory: URL
    public private(set) var process: BackgroundProcess
    public let tls: Bool
    private let binary: String
    private let configPath: String
    /// `127.0.0.1:PORT`, the registry part of image references.
    public var host: String { "127.0.0.1:\(port)" }

    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// - Parameters:
    ///   - tls: serve HTTPS with a certificate from `pki` (for 127.0.0.1).
    ///   - users: htpasswd basic-auth users (bcrypt via `htpasswd -B`).
    ///   - accessLog: log every request (to stdout) so tests can count them (`requests()`).
    public init(tls pki: TestPKI? = nil, users: [String: String] = [:], accessLog: Bool = false) throws {
        guard let binary = Subprocess.which("docker-registry") ?? ["/usr/bin/docker-registry"].first(where: FileManager.default.isExecutableFile) else {
            throw Unavailable(description: "docker-registry is not installed (apt-get install docker-registry)")
        }
        directory = try makeTemporaryDirectory("registry")
        port = try freeLoopbackPort()
        tls = pki != nil
        // As Debian's packaged config.yml: blob descriptors cached in memory. Without it, each request re-reads link
        // files from disk, and the registry's latency and CPU (on the cores sealgate shares in bench/cold) grow.
        var config = """
        version: 0.1
        log:
          level: warn
          accesslog:
            disabled: \(!accessLog)
        storage:
          cache:
            blobdescriptor: inmemory
          filesystem:
            rootdirectory: \(directory.appendingPathComponent("data").path)
          delete:
            enabled: true
        http:
          addr: 127.0.0.1:\(port)
          secret: sealgate-test-secret

        """
        if let pki {
            let cert = try pki.issueServerCertificate(name: "registry-\(port)", serial: UInt64(port))
            config += "  tls:\n    certificate: \(cert.certificate)\n    key: \(cert.key)\n"
        }
        if !users.isEmpty {
            let htpasswd = directory.appendingPathComponent("htpasswd").path
            FileManager.default.createFile(atPath: htpasswd, contents: nil)
            for (user, password) in users {
                let r = try Subprocess.run("htpasswd", ["-B", "-b", htpasswd, user, password], timeout: 30)
                guard r.status == 0 else { throw Unavailable(description: "htpasswd failed: \(r.stderr)") }
            }
            config += "auth:\n  htpasswd:\n    realm: sealgate-test\n    path: \(htpasswd)\n"
        }
        configPath = directory.appendingPathComponent("config.yml").path
        self.binary = binary
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        process = try BackgroundProcess(binary, ["serve", configPath])
        try waitUntilReady()
    }

    /// Starts the registry again (same port, same storage) after `stop()`.
    public func restart() throws {
        process.stop()
        process = try BackgroundProcess(binary, ["serve", configPath])
        try waitUntilReady()
    }

    /// Requests logged so far (with `accessLog`), as `METHOD /path` (the readiness probes excluded).
    public func requests() -> [String] {
        process.stdout.split(separator: "\n").compactMap { line in
            // Combined log format: ... "GET /v2/x/manifests/v1 HTTP/1.1" 200 ...
            guard let open = line.firstIndex(of: "\""), let close = line[line.index(after: open)...].firstIndex(of: "\"") else { return nil }
            let parts = line[line.index(after: open)..<close].split(separator: " ")
            guard parts.count >= 2, parts[1] != "/v2/" else { return nil }
            return "\(parts[0]) \(parts[1])"
        }
    }

    private func waitUntilReady() throws {
        // Ready when /v2/ answers (200, or 401 with auth).
        let scheme = tls ? "https" : "http"
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let probe = try Subprocess.run("curl", ["-s", "-k", "-o", "/dev/null", "-w", "%{http_code}", "\(scheme)://127.0.0.1:\(port)/v2/"], timeout: 10)
            if probe.stdout == "200" || probe.stdout == "401" { return }
            if !process.process.isRunning { break }
            usleep(100_000)
        }
        process.stop()
        throw Unavailable(description: "docker-registry did not start: \(process.stderr)")
    }

    public func stop() { process.stop() }

    deinit { process.stop() }
}

/// A port on 127.0.0.1 that was free a moment ago.
public func freeLoopbackPort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) { ptr in
        ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard ok else { throw LocalRegistry.Unavailable(description: "cannot find a free port") }
    return UInt16(bigEndian: addr.sin_port)
}
