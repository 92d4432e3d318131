import Foundation
import Testing
@testable import ImagePolicy

/// Kyverno's JMESPath functions with the results kyverno pkg/engine/jmespath gives.
@Suite struct KyvernoFunctionTests {
    static let data: JSONValue = ["yaml": "a: 1\nb: [x, y]\n", "ts": "2023-05-10T14:30:15+02:00", "keys": ["a", "b", "c"], "vals": [1, 2]]

    func run(_ e: String) throws -> JSONValue { try JMESPath.compile(e, functions: .kyverno).search(Self.data) }

    func fails(_ e: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let v = try run(e)
            Issue.record("\(e) gave \(v.jsonString), want an error", sourceLocation: sourceLocation)
        } catch {
            #expect("\(error)".contains(message), "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func semverCompare() throws {
        #expect(try run("semver_compare('1.2.3', '>=1.0.0 <2.0.0')") == true)
        #expect(try run("semver_compare('2.0.0', '>=1.0.0 <2.0.0')") == false)
        #expect(try run("semver_compare('2.1.0', '<1.0.0 || >=2.0.0')") == true)
        #expect(try run("semver_compare('1.0.0-rc.1', '<1.0.0')") == true, "a prerelease sorts before its release")
        #expect(try run("semver_compare('1.0.0-alpha.10', '>1.0.0-alpha.9')") == true, "numeric identifiers compare numerically")
        #expect(try run("semver_compare('1.4.7', '1.4.x')") == true)
        #expect(try run("semver_compare('1.5.0', '1.4.x')") == false)
        #expect(try run("semver_compare('3.0.0', '>2.x')") == true)
        #expect(try run("semver_compare('2.9.9', '>2.x')") == false)
        #expect(try run("semver_compare('1.2.3', '>= 1.2.3')") == true, "a space after the operator is allowed")
        #expect(try run("semver_compare('1.2.3+build.5', '=1.2.3')") == true, "build metadata is ignored")
        // An unparsable version compares as 0.0.0 (Kyverno ignores the parse error); a bad range is an error.
        #expect(try run("semver_compare('v1.2.3', '<0.0.1')") == true)
        fails("semver_compare('1.2.3', '>=1.2')", "semver_compare")
    }

    @Test func parseYAMLAndObjects() throws {
        #expect(try run("parse_yaml(yaml)") == ["a": 1, "b": ["x", "y"]])
        #expect(try run("parse_yaml(yaml).b[1]") == "y")
        #expect(try run("object_from_lists(keys, vals)") == ["a": 1, "b": 2, "c": .null])
        #expect(try run("parse_json('{\"a\": [1]}')") == ["a": [1]])
        fails("parse_yaml('a: [')", "parse_yaml")
    }

    @Test func stringFunctions() throws {
        #expect(try run("pattern_match('ghcr.io/*', 'ghcr.io/a')") == true)
        #expect(try run("pattern_match('v?', `7`)") == false)
        #expect(try run("pattern_match('?', `7`)") == true)
        #expect(try run("to_boolean('TruE')") == true)
        #expect(try run("to_boolean('false')") == false)
        fails("to_boolean('yes')", "must be 'true' or 'false'")
        #expect(try run("split('abc', '')") == ["a", "b", "c"])
        #expect(try run("truncate('héllo', `2`)") == "hé")
        #expect(try run("truncate('abc', `-1`)") == "")
        #expect(try run("path_canonicalize('/a//b/./c/../d/')") == "/a/b/d")
        #expect(try run("path_canonicalize('../x/../../y')") == "../../y")
        #expect(try run("path_canonicalize('')") == "")
        #expect(try run("image_normalize('nginx')") == "docker.io/nginx:latest")
        #expect(try run("image_normalize('ghcr.io/a/b:1')") == "ghcr.io/a/b:1")
    }

    @Test func arithmetic() throws {
        #expect(try run("modulo(`7`, `3`)") == 1)
        #expect(try run("modulo(`-7`, `3`)") == -1, "Go's % truncates toward zero")
        fails("modulo(`7.5`, `2`)", "Non-integer")
        fails("modulo(`7`, `0`)", "Zero divisor")
        #expect(try run("sum(`[1, 2, 3.5]`)") == 6.5)
        fails("sum(`[]`)", "at least one element")
        #expect(try run("round(`3.14159`, `2`)") == 3.14)
        #expect(try run("round(`2.5`, `0`)") == 3, "math.Round rounds half away from zero")
        fails("round(`1`, `-1`)", "out of bounds")
    }

    @Test func timeFunctions() throws {
        #expect(try run("time_utc(ts)") == "2023-05-10T12:30:15Z")
        #expect(try run("time_add(ts, '1h45m')") == "2023-05-10T16:15:15+02:00", "the offset is kept")
        #expect(try run("time_to_cron('2023-05-10T14:30:15Z')") == "30 14 10 5 3")
        #expect(try run("time_diff('2023-05-10T12:00:00Z', ts)") == "30m15s")
        #expect(try run("time_before('2023-05-10T12:00:00Z', ts)") == true)
        #expect(try run("time_before(ts, '2023-05-10T12:00:00Z')") == false)
        #expect(try run("time_after('2023-05-10T12:30:16Z', ts)") == true)
        #expect(try run("time_between(ts, '2023-05-10T12:00:00Z', '2023-05-10T13:00:00Z')") == true)
        #expect(try run("time_between('2023-05-10T12:00:00Z', '2023-05-10T12:00:00Z', '2023-05-10T13:00:00Z')") == false, "bounds are exclusive")
        #expect(try run("time_truncate('2023-05-10T14:37:15Z', '15m')") == "2023-05-10T14:30:00Z")
        #expect(try run("time_parse('2006-01-02', '2023-05-10')") == "2023-05-10T00:00:00Z")
        #expect(try run("time_parse('Mon Jan _2 15:04:05 MST 2006', 'Wed May 10 14:30:15 UTC 2023')") == "2023-05-10T14:30:15Z")
        #expect(try run("time_parse('02 Jan 06 15:04 -0700', '10 May 23 14:30 +0530')") == "2023-05-10T14:30:00+05:30")
        #expect(try run("time_parse('1136239445', '1683729015')") == "2023-05-10T14:30:15Z", "a numeric layout reads epoch seconds")
        #expect(try run("time_since('2006-01-02', '2023-05-10', '2023-05-11')") == "24h0m0s")
        #expect(try run("time_since('', '2022-01-01T00:00:00.5Z', '2022-01-01T00:00:01Z')") == "500ms")
        fails("time_parse('2006-01-02', '2023-13-10')", "out of range")
        fails("time_add(ts, 'soon')", "invalid duration")
        fails("time_utc('yesterday')", "RFC 3339")
        let now = try run("time_now_utc()").stringValue ?? ""
        #expect(GoTime.rfc3339(now).map { abs($0.date.timeIntervalSinceNow) < 5 } == true, "\(now)")
    }

    @Test func x509DecodeRendersGoCertificateFields() throws {
        // A certificate made by openssl with known names, SANs, serial and constraints.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("x509-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                       "-keyout", dir.appendingPathComponent("k.pem").path, "-out", dir.appendingPathComponent("c.pem").path,
                       "-subj", "/C=DE/O=Sealgate/CN=sealgate.test", "-days", "2", "-set_serial", "4660",
                       "-addext", "subjectAltName=DNS:a.test,email:ops@sealgate.test,IP:127.0.0.1,URI:https://github.com/sealgate/x",
                       "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0", "-addext", "keyUsage=critical,keyCertSign,digitalSignature"]
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try #require(p.terminationStatus == 0, "openssl failed")
        let pem = try String(contentsOf: dir.appendingPathComponent("c.pem"), encoding: .utf8)
        let root: JSONValue = ["cert": .string(pem)]
        func q(_ e: String) throws -> JSONValue { try JMESPath.compile(e, functions: .kyverno).search(root) }
        #expect(try q("x509_decode(cert).Subject.CommonName") == "sealgate.test")
        #expect(try q("x509_decode(cert).Subject.Organization") == ["Sealgate"])
        #expect(try q("x509_decode(cert).Issuer.Country") == ["DE"])
        #expect(try q("x509_decode(cert).SerialNumber") == 4660)
        #expect(try q("x509_decode(cert).Version") == 3)
        #expect(try q("x509_decode(cert).IsCA") == true)
        #expect(try q("x509_decode(cert).MaxPathLenZero") == true)
        #expect(try q("x509_decode(cert).KeyUsage") == 33, "digitalSignature (1) | certSign (32)")
        #expect(try q("x509_decode(cert).DNSNames") == ["a.test"])
        #expect(try q("x509_decode(cert).EmailAddresses") == ["ops@sealgate.test"])
        #expect(try q("x509_decode(cert).IPAddresses") == ["127.0.0.1"])
        #expect(try q("x509_decode(cert).URIs[0].Host") == "github.com")
        #expect(try q("x509_decode(cert).PublicKeyAlgorithm") == 3, "ECDSA in Go's numbering")
        #expect(try q("x509_decode(cert).SignatureAlgorithm") == 10, "ECDSAWithSHA256 in Go's numbering")
        #expect(try q("x509_decode(cert).ExtKeyUsage") == nil, "Go renders a nil slice as null")
        #expect(try q("time_after(x509_decode(cert).NotAfter, x509_decode(cert).NotBefore)") == true)
        #expect(throws: JMESPathError.self) { try JMESPath.compile("x509_decode('not a certificate')", functions: .kyverno).search(root) }
    }

    @Test func notProvidedFunctionsAreRefusedAtCompileTime() {
        for f in ["random('[a-z]{4}')"] {
            #expect(throws: JMESPathError.self) { try JMESPath.compile(f, functions: .kyverno) }
        }
    }
}
