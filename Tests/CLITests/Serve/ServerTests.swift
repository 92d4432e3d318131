import E2ESupport
import Foundation
import Testing
import TestSupport

/// The webhook server end to end: `sealgate serve` as a child process, real TLS, real HTTP/2 clients.
@Suite(.serialized)
struct ServerTests {
    static let reviewV1 = TestPaths.fixtures.appendingPathComponent("admission/pod-review-v1.json").path
    static let reviewV1beta1 = TestPaths.fixtures.appendingPathComponent("admission/pod-review-v1beta1.json").path

    let world: E2EWorld
    let cert: E2EWorld.CertificateFiles
    var pki: TestPKI { world.pki }

    init() throws {
        world = try E2EWorld("server", registry: .none)
        cert = try world.issueCertificate(serial: 1001)
    }

    func startServer(_ extra: [String] = [], certificate: String? = nil, key: String? = nil) throws -> SealgateServer {
        try world.serve(["--drain-timeout", "10", "--policy", TestPaths.fixtures.appendingPathComponent("policies/allow-all-static.yaml").path] + extra,
                        tls: (certificate ?? cert.certificate, key ?? cert.key))
    }

    var curlCommon: [String] { ["-sS", "--cacert", pki.caCertificate, "--connect-to", "localhost::127.0.0.1:"] }

    func curl(_ arguments: [String], timeout: Double = 60) throws -> ProcessOutput {
        try Subprocess.run("curl", curlCommon + arguments, timeout: timeout)
    }

    func uid(of path: String) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        return (object["request"] as! [String: Any])["uid"] as! String
    }

    @Test("curl over h2 (ALPN) and HTTP/1.1 gets a well-formed AdmissionReview with the same uid and apiVersion",
          arguments: [("--http2", "2"), ("--http1.1", "1.1")])
    func curlRoundTrip(flag: String, expectedVersion: String) throws {
        let server = try startServer()
        defer { server.stop() }
        for (file, apiVersion) in [(Self.reviewV1, "admission.k8s.io/v1"), (Self.reviewV1beta1, "admission.k8s.io/v1beta1")] {
            let result = try curl([flag, "-H", "content-type: application/json", "--data-binary", "@\(file)",
                                   "-w", "\n%{http_version} %{http_code}", "https://localhost:\(server.port)/validate?timeout=10s"])
            #expect(result.status == 0, "curl failed: \(result.stderr)")
            let lines = result.stdout.split(separator: "\n")
            #expect(lines.last == "\(expectedVersion) 200")
            let body = try JSONSerialization.jsonObject(with: Data(lines.first!.utf8)) as! [String: Any]
            #expect(body["apiVersion"] as? String == apiVersion)
            #expect(body["kind"] as? String == "AdmissionReview")
            let response = body["response"] as! [String: Any]
            #expect(response["uid"] as? String == (try uid(of: file)))
            #expect(response["allowed"] as? Bool == true)
        }
    }

    @Test("Go net/http sends 200 concurrent requests over one h2 connection; all answered correctly")
    func goClientConcurrentStreams() throws {
        let server = try startServer()
        defer { server.stop() }
        let summary = try GoClient.send(url: "https://localhost:\(server.port)/validate", caFile: pki.caCertificate,
                                        body: Self.reviewV1, count: 200, bodies: false)
        #expect(summary["ok"] as? Int == 200, "\(summary)")
        #expect(summary["failed"] as? Int == 0, "\(summary)")
        #expect(summary["connections"] as? Int == 1)
        #expect(summary["protocols"] as? [String] == ["HTTP/2.0"])
    }

    @Test("h2load -n 20000 -c 10 -m 50 against /validate: 0 errors")
    func h2loadNoErrors() throws {
        let server = try startServer()
        defer { server.stop() }
        let result = try Subprocess.run("h2load", ["-n", "20000", "-c", "10", "-m", "50", "-H", "content-type: application/json",
                                                   "-d", Self.reviewV1, "https://127.0.0.1:\(server.port)/validate"], timeout: 300)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("requests: 20000 total, 20000 started, 20000 done, 20000 succeeded, 0 failed, 0 errored, 0 timeout"),
                "\(result.stdout)")
        #expect(result.stdout.contains("status codes: 20000 2xx, 0 3xx, 0 4xx, 0 5xx"), "\(result.stdout)")
    }

    @Test("each bad input gets its status and the same connection keeps serving", arguments: ["--http2", "--http1.1"])
    func badInputsKeepConnection(flag: String) throws {
        let server = try startServer()
        defer { server.stop() }
        let dir = try makeTemporaryDirectory()
        func file(_ name: String, _ text: String) throws -> String {
            let path = dir.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let big = dir.appendingPathComponent("big.json").path
        try Data(repeating: 0x20, count: 4 * 1024 * 1024).write(to: URL(fileURLWithPath: big))
        let url = "https://localhost:\(server.port)"
        let json = "content-type: application/json"
        // (expected status, curl arguments for one transfer); all transfers share one curl run and so one connection.
        let cases: [(Int, [String])] = [
            (400, ["-H", json, "--data-binary", "@" + (try file("malformed.json", "{\"apiVersion\": \"admission.k8s.io/v1\", \"kind\":")), "\(url)/validate"]),
            (415, ["-H", "content-type: text/plain", "--data-binary", "@\(Self.reviewV1)", "\(url)/validate"]),
            (400, ["-H", json, "--data-binary", "@" + (try file("version.json", "{\"apiVersion\":\"admission.k8s.io/v2\",\"kind\":\"AdmissionReview\",\"request\":{}}")), "\(url)/validate"]),
            (400, ["-H", json, "--data-binary", "@" + (try file("kind.json", "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"Pod\"}")), "\(url)/mutate"]),
            (400, ["-H", json, "--data-binary", "@" + (try file("norequest.json", "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}")), "\(url)/validate"]),
            (400, ["-H", json, "--data-binary", "@" + (try file("nouid.json", "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},\"resource\":{\"group\":\"\",\"version\":\"v1\",\"resource\":\"pods\"},\"operation\":\"CREATE\"}}")), "\(url)/validate"]),
            (413, ["-H", json, "-H", "Expect:", "--data-binary", "@\(big)", "\(url)/validate"]),
            (405, ["-X", "GET", "\(url)/validate"]),
            (405, ["-X", "DELETE", "\(url)/healthz"]),
            (404, ["-H", json, "--data-binary", "@\(Self.reviewV1)", "\(url)/nope"]),
            (200, ["-H", json, "--data-binary", "@\(Self.reviewV1)", "\(url)/validate"]),
        ]
        var arguments: [String] = []
        for (i, (_, transfer)) in cases.enumerated() {
            // --next resets options, so each transfer repeats the common ones.
            if i > 0 { arguments += ["--next"] + curlCommon }
            arguments += [flag, "-o", dir.appendingPathComponent("body-\(i)").path, "-w", "%{http_code} %{num_connects}\n"] + transfer
        }
        let result = try curl(arguments, timeout: 120)
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        try #require(lines.count == cases.count, "curl: \(result.stdout) \(result.stderr)")
        for (i, (status, _)) in cases.enumerated() {
            #expect(lines[i][0] == String(status), "case \(i) \(cases[i].1.suffix(1)): got \(lines[i][0])")
            if i > 0 { #expect(lines[i][1] == "0", "case \(i) opened a new connection") }
            let body = (try? String(contentsOfFile: dir.appendingPathComponent("body-\(i)").path, encoding: .utf8)) ?? ""
            if status != 200 { #expect(body.contains("\"error\""), "case \(i) body: \(body)") }
        }
        let malformed = try String(contentsOfFile: dir.appendingPathComponent("body-0").path, encoding: .utf8)
        #expect(malformed.contains("malformed AdmissionReview"))
        let noUID = try String(contentsOfFile: dir.appendingPathComponent("body-5").path, encoding: .utf8)
        #expect(noUID.contains("uid"))
        #expect(server.process.process.isRunning)
    }

    @Test("SIGTERM under load: running requests finish, new connections are refused, exit status 0")
    func sigtermDrains() throws {
        let server = try startServer()
        let load = try BackgroundProcess("h2load", ["-n", "200000", "-c", "4", "-m", "20", "-H", "content-type: application/json",
                                                    "-d", Self.reviewV1, "https://127.0.0.1:\(server.port)/validate"])
        defer { load.stop() }
        usleep(700_000)
        server.process.signal(SIGTERM)
        let status = server.process.waitForExit(timeout: 20)
        #expect(status == 0, "serve exit: \(String(describing: status)) \(server.process.stderr)")
        let loadStatus = load.waitForExit(timeout: 30)
        #expect(loadStatus != nil)
        // h2load counts as errored the requests GOAWAY kept off the wire (queued in the client, never sent):
        // those are the client's to retry. What reached the server must have been answered.
        let line = load.stdout.split(separator: "\n").first { $0.hasPrefix("requests:") } ?? ""
        let numbers = line.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .punctuationCharacters)) }
        try #require(numbers.count >= 5, "h2load: \(load.stdout)")
        let (started, done, succeeded) = (numbers[1], numbers[2], numbers[3])
        #expect(started > 0 && started < 200000, "\(line)")
        #expect(done == started && succeeded > 0, "\(line)")
        let stopped = server.process.stderr.split(separator: "\n").first { $0.contains("server stopped") } ?? ""
        #expect(stopped.contains("in_flight=0") && stopped.contains("undelivered_responses=0"), "\(stopped)")
        #expect(server.process.stderr.contains("draining"))
        let refused = try curl(["--http2", "--max-time", "5", "https://localhost:\(server.port)/healthz"])
        #expect(refused.status == 7, "expected connection refused, got \(refused.status): \(refused.stderr)")
    }

    @Test("certificate rotation under load: no failed request, new connections see the new serial")
    func certificateRotation() throws {
        let dir = try makeTemporaryDirectory()
        let live = (dir.appendingPathComponent("tls.crt").path, dir.appendingPathComponent("tls.key").path)
        try FileManager.default.copyItem(atPath: cert.certificate, toPath: live.0)
        try FileManager.default.copyItem(atPath: cert.key, toPath: live.1)
        let server = try startServer(certificate: live.0, key: live.1)
        defer { server.stop() }
        #expect(try TestPKI.presentedSerial(port: server.port) == 1001)

        let load = try BackgroundProcess("h2load", ["-n", "40000", "-c", "4", "-m", "10", "-H", "content-type: application/json",
                                                    "-d", Self.reviewV1, "https://127.0.0.1:\(server.port)/validate"])
        defer { load.stop() }
        usleep(300_000)
        let rotated = try pki.issueServerCertificate(name: "rotated", serial: 2002)
        // Like a Secret update: each file replaced atomically, one after the other.
        for (from, to) in [(rotated.certificate, live.0), (rotated.key, live.1)] {
            let staging = to + ".new"
            try FileManager.default.copyItem(atPath: from, toPath: staging)
            _ = rename(staging, to)
        }
        // New handshakes during and after the swap keep succeeding.
        var newSerial: UInt64?
        for _ in 0..<30 {
            let probe = try curl(["--http2", "-o", "/dev/null", "-w", "%{http_code}", "-H", "content-type: application/json",
                                  "--data-binary", "@\(Self.reviewV1)", "https://localhost:\(server.port)/validate"])
            #expect(probe.stdout == "200", "request during rotation: \(probe.stdout) \(probe.stderr)")
            newSerial = try TestPKI.presentedSerial(port: server.port)
            if newSerial == 2002 { break }
            usleep(200_000)
        }
        #expect(newSerial == 2002)
        let loadStatus = load.waitForExit(timeout: 120)
        #expect(loadStatus == 0)
        #expect(load.stdout.contains("40000 succeeded, 0 failed, 0 errored, 0 timeout"), "\(load.stdout)")
        #expect(server.process.stderr.contains("reloaded TLS certificate"))
    }

    @Test("/metrics is Prometheus text and counts the requests made; probes answer")
    func metricsAndProbes() throws {
        let server = try startServer()
        defer { server.stop() }
        let base = "https://localhost:\(server.port)"
        for _ in 0..<7 {
            let r = try curl(["--http2", "-o", "/dev/null", "-H", "content-type: application/json", "--data-binary", "@\(Self.reviewV1)", "\(base)/validate"])
            #expect(r.status == 0)
        }
        _ = try curl(["--http1.1", "-o", "/dev/null", "-H", "content-type: application/json", "--data-binary", "@\(Self.reviewV1)", "\(base)/mutate"])
        _ = try curl(["--http2", "-o", "/dev/null", "-H", "content-type: text/plain", "--data", "x", "\(base)/validate"])
        #expect(try curl(["-w", "%{http_code}", "-o", "/dev/null", "\(base)/healthz"]).stdout == "200")
        #expect(try curl(["-w", "%{http_code}", "-o", "/dev/null", "\(base)/readyz"]).stdout == "200")

        let text = try curl(["--http2", "\(base)/metrics"]).stdout
        let samples = try PrometheusText.parse(text)
        #expect(samples[#"sealgate_http_requests_total{path="/validate",code="200",protocol="HTTP/2"}"#] == 7)
        #expect(samples[#"sealgate_http_requests_total{path="/mutate",code="200",protocol="HTTP/1.1"}"#] == 1)
        #expect(samples[#"sealgate_http_requests_total{path="/validate",code="415",protocol="HTTP/2"}"#] == 1)
        #expect(samples[#"sealgate_http_request_duration_seconds_count{path="/validate"}"#] == 8)
        #expect((samples[#"sealgate_tls_handshakes_total{result="ok"}"#] ?? 0) >= 10)
        #expect(samples["sealgate_http_requests_in_flight"] != nil)
    }
}

/// A strict reader of the Prometheus text exposition format (0.0.4): every line must parse.
enum PrometheusText {
    struct ParseError: Error, CustomStringConvertible { let description: String }

    /// Maps `name{labels}` (labels as written) to the sample value.
    static func parse(_ text: String) throws -> [String: Double] {
        var samples: [String: Double] = [:]
        let name = #"[a-zA-Z_:][a-zA-Z0-9_:]*"#
        let label = #"[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*""#
        let sample = try Regex("^(\(name)(?:\\{(?:\(label)(?:,\(label))*)?\\})?) (\\S+)( -?\\d+)?$")
        let meta = try Regex("^# (?:TYPE \(name) (?:counter|gauge|histogram|summary|untyped)|HELP \(name) .*)$")
        for line in text.split(separator: "\n") {
            if line.hasPrefix("#") {
                guard line.wholeMatch(of: meta) != nil else { throw ParseError(description: "bad comment line: \(line)") }
                continue
            }
            guard let match = line.wholeMatch(of: sample), let key = match.output[1].substring,
                  let valueText = match.output[2].substring else { throw ParseError(description: "bad sample line: \(line)") }
            guard let value = Double(valueText) ?? (valueText == "+Inf" ? .infinity : valueText == "-Inf" ? -.infinity : valueText == "NaN" ? .nan : nil) else {
                throw ParseError(description: "bad value in: \(line)")
            }
            samples[String(key)] = value
        }
        return samples
    }
}
