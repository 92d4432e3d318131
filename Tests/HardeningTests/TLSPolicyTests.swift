import Foundation
import HTTP2Server
import Testing
import TestSupport

/// Issue item 6 for the server: TLS 1.2+ only, forward-secret AEAD suites only, and client-certificate auth.
@Suite(.serialized)
struct TLSPolicyTests {
    func sClient(_ port: UInt16, _ arguments: [String]) throws -> ProcessOutput {
        try Subprocess.run("openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost"] + arguments,
                           stdin: Data("Q\n".utf8), timeout: 20)
    }

    /// A handshake completed when s_client printed a negotiated cipher other than "(NONE)" and exited 0.
    func handshakeSucceeded(_ result: ProcessOutput) -> Bool {
        result.status == 0 && result.stdout.contains("Cipher is ") && !result.stdout.contains("Cipher is (NONE)")
    }

    static func openssl(_ arguments: [String]) throws {
        let result = try Subprocess.run("openssl", arguments, timeout: 60)
        guard result.status == 0 else { throw HardeningError("openssl \(arguments.joined(separator: " ")): \(result.stderr)") }
    }

    /// A CA and a client certificate it signs, made with the openssl CLI in `directory`.
    static func clientPKI(_ directory: URL, _ name: String) throws -> (ca: String, cert: String, key: String) {
        let base = directory.appendingPathComponent(name).path
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", base + "-ca.key",
                     "-out", base + "-ca.crt", "-days", "2", "-subj", "/CN=\(name) client CA",
                     "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        try "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n".write(toFile: base + ".ext", atomically: true, encoding: .utf8)
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", base + ".key",
                     "-out", base + ".csr", "-subj", "/CN=kube-apiserver"])
        try openssl(["x509", "-req", "-in", base + ".csr", "-CA", base + "-ca.crt", "-CAkey", base + "-ca.key", "-set_serial", "5",
                     "-days", "1", "-out", base + ".crt", "-extfile", base + ".ext"])
        return (base + "-ca.crt", base + ".crt", base + ".key")
    }

    @Test("TLS 1.0 and 1.1 handshakes are refused; 1.2 and 1.3 succeed")
    func protocolVersions() throws {
        let server = try Hardening.start(tls: true)
        defer { server.stop() }
        // SECLEVEL=0 so that the refusal comes from the server, not from the client's own policy.
        for old in ["-tls1", "-tls1_1"] {
            let result = try sClient(server.port, [old, "-cipher", "DEFAULT:@SECLEVEL=0"])
            #expect(!handshakeSucceeded(result), "\(old) accepted:\n\(result.stdout)")
        }
        for modern in ["-tls1_2", "-tls1_3"] {
            let result = try sClient(server.port, [modern])
            #expect(handshakeSucceeded(result), "\(modern) refused:\n\(result.stdout)\n\(result.stderr)")
        }
    }

    @Test("CBC and non-forward-secret TLS 1.2 suites are refused; ECDHE AEAD suites succeed")
    func cipherSuites() throws {
        let server = try Hardening.start(tls: true)
        defer { server.stop() }
        for weak in ["ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA", "ECDHE-ECDSA-AES128-SHA"] {
            let result = try sClient(server.port, ["-tls1_2", "-cipher", weak + ":@SECLEVEL=0"])
            #expect(!handshakeSucceeded(result), "\(weak) accepted")
        }
        for strong in ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"] {
            let result = try sClient(server.port, ["-tls1_2", "-cipher", strong])
            #expect(handshakeSucceeded(result), "\(strong) refused: \(result.stderr)")
        }
    }

    @Test("an RSA certificate does not enable static-RSA or CBC key exchange")
    func rsaCertificateSuites() throws {
        let pki = try TestPKI()
        let dir = pki.directory.path
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n"
            .write(toFile: dir + "/rsa.ext", atomically: true, encoding: .utf8)
        try Self.openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/rsa.key", "-out", dir + "/rsa.csr", "-subj", "/CN=localhost"])
        try Self.openssl(["x509", "-req", "-in", dir + "/rsa.csr", "-CA", pki.caCertificate, "-CAkey", dir + "/ca.key",
                          "-set_serial", "9", "-days", "1", "-out", dir + "/rsa.crt", "-extfile", dir + "/rsa.ext"])
        let config = ServerConfiguration(host: "127.0.0.1", port: 0,
                                         tls: .init(certificatePath: dir + "/rsa.crt", privateKeyPath: dir + "/rsa.key"), drainTimeout: 5)
        let server = RunningServer(try HTTPServer(configuration: config, logger: .init(label: "rsa"), handler: Hardening.handler), pki: pki)
        defer { server.stop() }
        for weak in ["AES128-GCM-SHA256", "AES256-GCM-SHA384", "AES128-SHA", "ECDHE-RSA-AES128-SHA256", "DHE-RSA-AES128-GCM-SHA256"] {
            let result = try sClient(server.port, ["-tls1_2", "-cipher", weak + ":@SECLEVEL=0"])
            #expect(!handshakeSucceeded(result), "\(weak) accepted")
        }
        let ok = try sClient(server.port, ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"])
        #expect(handshakeSucceeded(ok), "\(ok.stderr)")
    }

    @Test("client-certificate auth: no certificate or another CA's is refused, the configured CA's succeeds")
    func clientCertificates() throws {
        let pki = try TestPKI()
        let good = try Self.clientPKI(pki.directory, "good")
        let other = try Self.clientPKI(pki.directory, "other")
        let server = try Hardening.start(tls: true, clientCAPath: good.ca, pki: pki)
        defer { server.stop() }
        let url = server.baseURL + "/fast"
        let withCert = try server.curl(["--max-time", "5", "--cert", good.cert, "--key", good.key, url])
        #expect(withCert.stdout == "fast HTTP/2 GET\n", "\(withCert.stderr)")
        let without = try server.curl(["--max-time", "5", url])
        #expect(without.status != 0 && without.stdout.isEmpty, "no client certificate was accepted: \(without.stdout)")
        let wrongCA = try server.curl(["--max-time", "5", "--cert", other.cert, "--key", other.key, url])
        #expect(wrongCA.status != 0 && wrongCA.stdout.isEmpty, "another CA's certificate was accepted: \(wrongCA.stdout)")
        // Mutual TLS applies to HTTP/1.1 connections too (ALPN http/1.1).
        let http1 = try server.curl(["--max-time", "5", "--cert", good.cert, "--key", good.key, url], http1: true)
        #expect(http1.stdout == "fast HTTP/1.1 GET\n")
    }

    @Test("with client-certificate auth, a reconnecting client can resume its TLS session")
    func sessionResumptionWithClientAuth() throws {
        let pki = try TestPKI()
        let good = try Self.clientPKI(pki.directory, "good")
        let server = try Hardening.start(tls: true, clientCAPath: good.ca, pki: pki)
        defer { server.stop() }
        let session = pki.directory.appendingPathComponent("session.pem").path
        // A whole HTTP/1.1 exchange (the server closes after it), so that TLS 1.3 tickets arrive before s_client exits.
        let request = Data("GET /fast HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8)
        func sClient(_ port: UInt16, _ arguments: [String]) throws -> ProcessOutput {
            try Subprocess.run("openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost", "-alpn", "http/1.1",
                                           "-ign_eof"] + arguments, stdin: request, timeout: 20)
        }
        for version in ["-tls1_2", "-tls1_3"] {
            let first = try sClient(server.port, [version, "-cert", good.cert, "-key", good.key, "-sess_out", session])
            #expect(handshakeSucceeded(first), "\(version) first: \(first.stderr)")
            // Without a session ID context OpenSSL failed this handshake ("session id context uninitialized").
            let second = try sClient(server.port, [version, "-cert", good.cert, "-key", good.key, "-sess_in", session])
            #expect(handshakeSucceeded(second), "\(version) resumption failed: \(second.stderr)")
            #expect(second.stdout.contains("Reused"), "\(version) session not reused:\n\(second.stdout)")
        }
    }
}
