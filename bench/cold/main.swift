// Cold-path benchmark: a Pod with 5 images, each keyless-signed with an SPDX SBOM attestation, in a
// loopback docker-registry; `sealgate serve` (built beside this binary) verifies them after its caches are
// flushed (SIGUSR1). Reports time to decision, registry round trips per image (the registry's access log),
// and the server's CPU time per image beside the raw cost of its signature checks (`openssl speed`).
//   .build/release/sealgate-coldbench [--rounds N] [--json FILE]
import Foundation
import E2ESupport
import SigstoreTestSupport
import TestSupport

var rounds = 10
var rttMs = 25.0
var jsonOut: String?
var args = CommandLine.arguments.dropFirst()
while let arg = args.popFirst() {
    switch arg {
    case "--rounds": rounds = Int(args.popFirst() ?? "") ?? rounds
    case "--rtt-ms": rttMs = Double(args.popFirst() ?? "") ?? rttMs
    case "--json": jsonOut = args.popFirst()
    default: FileHandle.standardError.write(Data("unknown argument \(arg)\n".utf8)); exit(2)
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("coldbench: \(message)\n".utf8))
    exit(1)
}

/// CPU time of `pid`, threads that have ended included (utime + stime of /proc/PID/stat, in clock ticks). Summing
/// the live threads' schedstat instead missed the work of the short-lived threads blocking calls used to run on.
func cpuSeconds(_ pid: Int32) -> Double { systemAndUser(pid).reduce(0, +) }

/// The kernel's share (stime) and the process's own (utime) of `cpuSeconds`: callgrind counts only the latter.
func systemAndUser(_ pid: Int32) -> [Double] {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return [0, 0] }
    // Fields after the command name: state is field 3, utime 14, stime 15.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    let tick = Double(sysconf(Int32(_SC_CLK_TCK)))
    return [(Double(fields[12]) ?? 0) / tick, (Double(fields[11]) ?? 0) / tick]
}

/// The sealgate process under reaper.py (the test helper that starts children).
func childPid(of pid: Int32) -> Int32? {
    (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8))?.split(separator: " ").first.flatMap { Int32($0) }
}

let images = 5
let world = try E2EWorld("coldbench", registry: .plain(accessLog: true))
let registry = world.registry!
let repos = (1...images).map { "cold/app-\($0)" }
for repo in repos {
    try world.pushSigned(repo, attestations: [("https://spdx.dev/Document", TestSigstore.spdxPredicate)])
}
// The same registry a round trip away: a delaying proxy (bench/cold/delay_proxy.py) in front of it on another port.
let proxyPort = try freeLoopbackPort()
let proxyScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("delay_proxy.py").path
let proxy = try BackgroundProcess("python3", [proxyScript, String(proxyPort), String(registry.port), String(rttMs)],
                                  environment: ProcessInfo.processInfo.environment["DELAY_PROXY_LOG"].map { ["DELAY_PROXY_LOG": $0] } ?? [:])
print("delay proxy log: \(proxy.stderrURL.path)")
guard proxy.waitForOutput(timeout: 20, { $0.contains("ready") }) else { fail("delay proxy did not start: \(proxy.stderr)") }
let farHost = "127.0.0.1:\(proxyPort)"
let policy = try world.write("""
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: cold-sbom}
spec:
  images: [{glob: "\(registry.host)/cold/**"}, {glob: "\(farHost)/cold/**"}]
  authorities:
    - keyless:
        url: https://fulcio.example
        identities: [{issuer: "\(E2EWorld.issuer)", subjectRegExp: "^https://github.com/sealgate/.*"}]
      attestations:
        - {name: sbom, predicateType: spdxjson}
""", to: "policy.yaml")
let server = try world.serve(["--policy", policy.path] + world.trustFlags + ["--insecure-registry", farHost, "--log-level", "notice"], tls: try world.issueCertificate(serial: 7007))
guard let pid = childPid(of: server.process.process.processIdentifier) else { fail("cannot find the sealgate process") }

let review = try AdmissionReviews.write(AdmissionReviews.pod(repos.map { world.ref($0, ":v1") }, uid: "cold"), in: world.dir)
let farReview = try AdmissionReviews.write(AdmissionReviews.pod(repos.map { "\(farHost)/\($0):v1" }, uid: "cold-far"), in: world.dir)

// The API server's side: one HTTP/2 connection, kept across the rounds as the API server keeps it
// (bench/cold/h2_keepalive.py), so no round pays a TLS handshake. It reads review paths from a FIFO.
let commandsPath = world.dir.appendingPathComponent("admissions.fifo").path
guard mkfifo(commandsPath, 0o600) == 0 else { fail("mkfifo \(commandsPath): errno \(errno)") }
let clientScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("h2_keepalive.py").path
let client = try BackgroundProcess("python3", [clientScript, "https://localhost:\(server.port)/validate?timeout=10s", world.pki.caCertificate, commandsPath])
guard client.waitForOutput(timeout: 20, { $0.contains("ready") }) else { fail("the h2 client did not connect: \(client.stderr)") }
guard let commands = FileHandle(forWritingAtPath: commandsPath) else { fail("cannot open \(commandsPath)") }
var answered = 0

/// One admission; returns the time from the request being sent to the whole answer (the client's clock), in seconds.
@MainActor func admit(_ review: String = review) throws -> Double {
    commands.write(Data((review + "\n").utf8))
    answered += 1
    let count = answered
    let answers = { (output: String) in output.split(separator: "\n").filter { $0.hasPrefix("answer ") } }
    guard client.waitForOutput(timeout: 30, { answers($0).count >= count }) else { fail("no answer: \(client.stderr)") }
    let fields = answers(client.stdout)[count - 1].split(separator: " ")
    guard fields.count == 3, fields[2] == "allowed", let took = Double(fields[1]) else { fail("not admitted: \(client.stderr)") }
    return took
}

func flush() {
    do { try world.flushCaches(server) } catch { fail("\(error)") }
}

/// With COLDBENCH_CALLGRIND set (the server started under `valgrind --tool=callgrind --instr-atstart=no`), counts
/// instructions over the cold rounds only: `on` before them, `off` and a dump after.
func callgrind(_ arguments: [String]) {
    guard ProcessInfo.processInfo.environment["COLDBENCH_CALLGRIND"] != nil else { return }
    _ = try? Subprocess.run("callgrind_control", arguments + [String(pid)], timeout: 120)
}

_ = try admit()  // connection setup, first-use costs
callgrind(["-i", "on"])
var coldTimes: [Double] = [], coldCPU: [Double] = [], coldRequests: [Int] = []
let systemBefore = systemAndUser(pid)[0]
for _ in 0..<rounds {
    flush()
    let requestsBefore = registry.requests().count
    let cpuBefore = cpuSeconds(pid)
    coldTimes.append(try admit())
    coldCPU.append(cpuSeconds(pid) - cpuBefore)
    coldRequests.append(registry.requests().count - requestsBefore)
}
let coldSystem = systemAndUser(pid)[0] - systemBefore
callgrind(["-i", "off"])
callgrind(["-d"])
let warmBefore = registry.requests().count
let warmTime = try admit()
let warmRequests = registry.requests().count - warmBefore

// At the round trip: connections to the registry are set up by a first admission (as in a running cluster), then
// each round starts from flushed caches. Waves: how many round trips, one after the other, the decision waited for.
/// Request times the proxy has seen so far.
@MainActor func proxiedRequests() -> [Double] {
    proxy.stdout.split(separator: "\n").compactMap { $0.hasPrefix("request ") ? Double($0.dropFirst(8)) : nil }
}

/// Bursts of requests: a request more than half a round trip after the previous one waited for an answer.
@MainActor func waves(_ times: [Double]) -> Int {
    zip(times.dropFirst(), times).reduce(times.isEmpty ? 0 : 1) { $0 + ($1.0 - $1.1 > rttMs / 2000 ? 1 : 0) }
}

_ = try admit(farReview)
var farTimes: [Double] = [], farWaves: [Double] = []
for _ in 0..<rounds {
    flush()
    let before = proxiedRequests().count
    farTimes.append(try admit(farReview))
    farWaves.append(Double(waves(Array(proxiedRequests().dropFirst(before)))))
}
if ProcessInfo.processInfo.environment["DELAY_PROXY_LOG"] != nil { try? FileManager.default.copyItem(atPath: proxy.stderrURL.path, toPath: "/tmp/delay-proxy.log") }
proxy.stop()
try? commands.close()
client.stop()
server.stop()
registry.stop()

// Raw signature cost: per image, the SBOM attestation needs 4 ECDSA P-256 verifications (DSSE signature, leaf
// certificate, SCT, Rekor SET). Only the attestation: an authority with attestations checks those and not the image
// signature (policy-controller; ClusterImagePolicyEvaluator). The intermediate's link to the root is part of the
// trusted root, checked once per root (FulcioCertificateVerifier.trustedLinks), so it is no per-image cost; the
// profile of the cold rounds shows 60 verifications for 15 images.
// openssl speed times itself with SIGALRM; children of Foundation's Process start with signals blocked, so unblock first.
let unblock = "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execvp(sys.argv[1], sys.argv[1:])"
let speed = try Subprocess.run("python3", ["-c", unblock, "openssl", "speed", "-seconds", "1", "ecdsap256"], timeout: 60).stdout
let verifyRate = speed.split(separator: "\n").last { $0.contains("256 bits ecdsa") }
    .flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? 0
let checksPerImage = 4.0
let rawPerImage = verifyRate > 0 ? checksPerImage / verifyRate : 0

func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s.isEmpty ? 0 : s[s.count / 2] }
let result: [String: Any] = [
    "images": images, "rounds": rounds,
    "time_to_decision_ms": ["median": median(coldTimes) * 1000, "max": (coldTimes.max() ?? 0) * 1000],
    "warm_time_ms": warmTime * 1000, "warm_registry_requests": warmRequests,
    "registry_requests_per_image": Double(coldRequests.reduce(0, +)) / Double(rounds * images),
    "cpu_ms_per_image": coldCPU.reduce(0, +) * 1000 / Double(images * coldCPU.count),
    "cpu_system_ms_per_image": coldSystem * 1000 / Double(images * rounds),
    "openssl_ecdsap256_verify_per_s": verifyRate, "raw_signature_ms_per_image": rawPerImage * 1000,
    "signature_checks_per_image": checksPerImage,
    "rtt_ms": rttMs,
    "rtt_time_to_decision_ms": ["p50": median(farTimes) * 1000, "p99": (farTimes.max() ?? 0) * 1000],
    "rtt_waves": median(farWaves),
]
print("| cold path (\(images) keyless-signed images with SPDX attestations, \(rounds) rounds) | value |")
print("|---|---:|")
print(String(format: "| time to decision, median (max) | %.1f ms (%.1f ms) |", median(coldTimes) * 1000, (coldTimes.max() ?? 0) * 1000))
print(String(format: "| registry round trips per image, cold | %.1f |", result["registry_requests_per_image"] as! Double))
print("| registry round trips, warm (whole Pod) | \(warmRequests) |")
print(String(format: "| server CPU per image, cold (mean over the rounds) | %.2f ms |", coldCPU.reduce(0, +) * 1000 / Double(images * coldCPU.count)))
print(String(format: "| of which in the kernel (stime) | %.2f ms |", coldSystem * 1000 / Double(images * rounds)))
print(String(format: "| raw signature checks per image (%.0f × ECDSA P-256 verify at %.0f/s, openssl speed) | %.2f ms |", checksPerImage, verifyRate, rawPerImage * 1000))
print(String(format: "| warm decision (all cached) | %.2f ms |", warmTime * 1000))
print(String(format: "| at %.0f ms RTT: time to decision p50 (p99) | %.1f ms (%.1f ms) |", rttMs, median(farTimes) * 1000, (farTimes.max() ?? 0) * 1000))
print(String(format: "| at %.0f ms RTT: round-trip waves to the registry (median) | %.0f |", rttMs, median(farWaves)))
if let jsonOut {
    try JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: jsonOut))
}
