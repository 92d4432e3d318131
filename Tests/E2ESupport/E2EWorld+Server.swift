import Foundation
import TestSupport

/// `sealgate serve` in the world, and requests to it: AdmissionReviews over h2 (Go's net/http, as the API server
/// sends them) or curl, the probes and /metrics, cache flushes.
extension E2EWorld {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    public typealias CertificateFiles = (certificate: String, key: String)

    /// A server certificate for localhost/127.0.0.1 from the world's CA, with `serial` (tests read it back).
    public func issueCertificate(serial: UInt64, name: String = "server") throws -> CertificateFiles {
        try pki.issueServerCertificate(name: name, serial: serial)
    }

    /// Starts `sealgate serve` with `arguments`: over TLS with `tls`, otherwise `--plaintext`; in the world's
    /// directory, with the world's HOME unless `home` is given.
    public func serve(_ arguments: [String], tls: CertificateFiles? = nil, home: URL? = nil) throws -> SealgateServer {
        let transport = tls.map { ["--tls-cert", $0.certificate, "--tls-key", $0.key] } ?? ["--plaintext"]
        return try SealgateServer(arguments: transport + arguments, environment: ["HOME": (home ?? self.home).path], directory: dir.path)
    }

    /// Sends the review file `count` times at once with Go's net/http over h2; the response objects and the
    /// client's summary (`ok`, `failed`, `errors`, …).
    public func send(_ reviewPath: String, to server: SealgateServer, path: String = "/validate", count: Int = 1,
                     timeout: String = "10s") throws -> (responses: [[String: Any]], summary: [String: Any]) {
        let summary = try GoClient.send(url: "https://localhost:\(server.port)\(path)", caFile: pki.caCertificate, body: reviewPath,
                                        count: count, timeout: timeout)
        let responses = (summary["bodies"] as? [[String: Any]] ?? []).compactMap { $0["response"] as? [String: Any] }
        return (responses, summary)
    }

    /// Sends the review file once over h2; its response object.
    public func decide(_ reviewPath: String, by server: SealgateServer, path: String = "/validate", timeout: String = "10s") throws -> [String: Any] {
        let sent = try send(reviewPath, to: server, path: path, timeout: timeout)
        guard let response = sent.responses.first else { throw Failure("no AdmissionReview response: \(sent.summary)") }
        return response
    }

    /// Posts the review file with curl (plaintext or TLS); its response object.
    public func post(_ reviewPath: String, to server: SealgateServer, path: String = "/validate") throws -> [String: Any] {
        let body = try curl(server, path, ["-H", "content-type: application/json", "--data-binary", "@\(reviewPath)"])
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
              let response = object["response"] as? [String: Any] else { throw Failure("not an AdmissionReview answer: \(body)") }
        return response
    }

    /// The body of GET `path` (curl; `arguments` added before the URL).
    public func curl(_ server: SealgateServer, _ path: String, _ arguments: [String] = []) throws -> String {
        let tls = server.scheme == "https" ? ["--cacert", pki.caCertificate, "--connect-to", "localhost::127.0.0.1:"] : []
        let base = server.scheme == "https" ? "https://localhost:\(server.port)" : server.baseURL
        return try Subprocess.run("curl", ["-s"] + tls + arguments + [base + path]).stdout
    }

    /// Empties the server's caches (SIGUSR1) and waits until the flush is logged.
    public func flushCaches(_ server: SealgateServer) throws {
        let marker = "caches flushed"
        let before = server.process.stderr.components(separatedBy: marker).count
        server.process.signal(SIGUSR1)
        let deadline = Date().addingTimeInterval(10)
        while server.process.stderr.components(separatedBy: marker).count == before {
            guard Date() < deadline else { throw Failure("SIGUSR1 flush not logged") }
            usleep(20_000)
        }
    }

    /// The deny message (or warning-free empty string) of a response object.
    public static func message(_ response: [String: Any]) -> String {
        ((response["status"] as? [String: Any])?["message"] as? String) ?? ""
    }
}
