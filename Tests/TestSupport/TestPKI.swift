import Foundation

/// Server certificates made with the openssl CLI for TLS tests: a CA and leaves it signs.
public struct TestPKI: Sendable {
    public let directory: URL
    public var caCertificate: String { directory.appendingPathComponent("ca.crt").path }

    public init() throws {
        directory = try makeTemporaryDirectory("sealgate-pki")
        let ca = directory.appendingPathComponent("ca").path
        try Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                          "-keyout", ca + ".key", "-out", ca + ".crt", "-days", "2", "-subj", "/CN=sealgate test CA",
                          "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    }

    /// Issues a leaf for localhost/127.0.0.1 with the given serial; returns (cert, key) paths. `clientAuth`: usable
    /// as a TLS client certificate too (notary-server presents one to notary-signer).
    @discardableResult
    public func issueServerCertificate(name: String, serial: UInt64, clientAuth: Bool = false) throws -> (certificate: String, key: String) {
        let base = directory.appendingPathComponent(name).path
        let ext = base + ".ext"
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\(clientAuth ? ",clientAuth" : "")\nbasicConstraints=CA:FALSE\n"
            .write(toFile: ext, atomically: true, encoding: .utf8)
        try Self.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", base + ".key",
                          "-out", base + ".csr", "-subj", "/CN=localhost"])
        try Self.openssl(["x509", "-req", "-in", base + ".csr", "-CA", caCertificate,
                          "-CAkey", directory.appendingPathComponent("ca.key").path, "-set_serial", String(serial),
                          "-days", "1", "-out", base + ".crt", "-extfile", ext])
        return (base + ".crt", base + ".key")
    }

    /// Serial number (decimal) of the certificate a TLS server presents.
    public static func presentedSerial(host: String = "127.0.0.1", port: UInt16) throws -> UInt64? {
        let connect = try Subprocess.run("openssl", ["s_client", "-connect", "\(host):\(port)", "-servername", "localhost"],
                                         stdin: Data(), timeout: 20)
        let pem = connect.stdout
        guard let start = pem.range(of: "-----BEGIN CERTIFICATE-----"),
              let end = pem.range(of: "-----END CERTIFICATE-----") else { return nil }
        let cert = String(pem[start.lowerBound..<end.upperBound]) + "\n"
        let parsed = try Subprocess.run("openssl", ["x509", "-noout", "-serial"], stdin: Data(cert.utf8), timeout: 20)
        // "serial=0A1B..." in hex
        guard let hex = parsed.stdout.split(separator: "=").last?.trimmingCharacters(in: .whitespacesAndNewlines) else { return nil }
        return UInt64(hex, radix: 16)
    }

    public static func openssl(_ arguments: [String]) throws {
        let result = try Subprocess.run("openssl", arguments, timeout: 60)
        guard result.status == 0 else {
            throw NSError(domain: "TestPKI", code: Int(result.status), userInfo: [NSLocalizedDescriptionKey: "openssl \(arguments.joined(separator: " ")) failed: \(result.stderr)"])
        }
    }
}
