// Cold-path benchmark: a Pod with 5 images, each keyless-signed with an SPDX SBOM attestation, in a
// loopback docker-registry; `sealgate serve` (built beside this binary) verifies them after its caches are
// flushed (SIGUSR1). Reports time to decision, registry round trips per image (the registry's access log),
// and the server's CPU time per image beside the raw cost of its signature checks (`openssl speed`).
//   .build/release/sealgate-coldbench [--rounds N] [--json FILE]
import Foundation
import Registry
import RegistryTestSupport
import SigstoreTestSupport
import TestSupport

var rounds = 10
var jsonOut: String?
var args = CommandLine.arguments.dropFirst()
while let arg = args.popFirst() {
    switch arg {
    case "--rounds": rounds = Int(args.popFirst() ?? "") ?? rounds
    case "--json": jsonOut = args.popFirst()
    default: FileHandle.standardError.write(Data("unknown argument \(arg)\n".utf8)); exit(2)
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("coldbench: \(message)\n".utf8))
    exit(1)
}

/// CPU time of every thread of `pid`, in seconds (schedstat: nanoseconds, unlike stat's 10 ms ticks).
func cpuSeconds(_ pid: Int32) -> Double {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
    return tasks.reduce(0.0) { sum, tid in
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/schedstat", encoding: .utf8)) ?? ""
        return sum + (stat.split(separator: " ").first.flatMap { Double($0) } ?? 0) / 1e9
    }
}

/// The sealgate process under reaper.py (the test helper that starts children).
func childPid(of pid: Int32) -> Int32? {
    (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8))?.split(separator: " ").first.flatMap { Int32($0) }
}

let images = 5
let registry = try LocalRegistry(accessLog: true)
let client = try registry.client()
let sigstore = TestSigstore()
let options = sigstore.options(at: Date())
let dir = try makeTemporaryDirectory("coldbench")
let repos = (1...images).map { "cold/app-\($0)" }
for repo in repos {
    try TestImages.pushSigned(client, registry: registry.host, repository: repo, sigstore: sigstore, options: options,
                              attestations: [("https://spdx.dev/Document", TestSigstore.spdxPredicate)])
}
let root = dir.appendingPathComponent("trusted_root.json")
try sigstore.trustedRootJSON().write(to: root)
let policy = dir.appendingPathComponent("policy.yaml")
try """
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: cold-sbom}
spec:
  images: [{glob: "\(registry.host)/cold/**"}]
  authorities:
    - keyless:
        url: https://fulcio.example
        identities: [{issuer: "\(TestIdentity.githubWorkflow.issuer)", subjectRegExp: "^https://github.com/sealgate/.*"}]
      attestations:
        - {name: sbom, predicateType: spdxjson}
""".write(to: policy, atomically: true, encoding: .utf8)
let pki = try TestPKI()
let cert = try pki.issueServerCertificate(name: "server", serial: 7007)
let server = try SealgateServer(arguments: ["--tls-cert", cert.certificate, "--tls-key", cert.key, "--policy", policy.path,
                                           "--trusted-root", root.path, "--insecure-registry", registry.host, "--log-level", "notice"],
                                environment: ["HOME": dir.path], directory: dir.path)
guard let pid = childPid(of: server.process.process.processIdentifier) else { fail("cannot find the sealgate process") }

let containers = repos.enumerated().map { #"{"name":"c\#($0.offset)","image":"\#(registry.host)/\#($0.element):v1"}"# }.joined(separator: ",")
let review = dir.appendingPathComponent("review.json")
try #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"cold","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"shop","operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"shop"},"spec":{"containers":[\#(containers)]}}}}"#
    .write(to: review, atomically: true, encoding: .utf8)

/// One admission; returns the time from the request being sent to the whole answer (curl's timers), in seconds.
func admit() throws -> Double {
    let run = try Subprocess.run("curl", ["-s", "--http2", "--cacert", pki.caCertificate, "--connect-to", "localhost::127.0.0.1:",
                                          "-H", "content-type: application/json", "--data-binary", "@\(review.path)",
                                          "-w", "\n%{time_pretransfer} %{time_total}", "-o", "-",
                                          "https://localhost:\(server.port)/validate?timeout=10s"], timeout: 30)
    let lines = run.stdout.split(separator: "\n")
    guard run.status == 0, let times = lines.last?.split(separator: " "), times.count == 2,
          let sent = Double(times[0]), let first = Double(times[1]) else { fail("curl failed: \(run.stdout) \(run.stderr)") }
    guard run.stdout.contains(#""allowed":true"#) else { fail("not admitted: \(run.stdout)") }
    return first - sent
}

func flush() {
    let marker = "caches flushed"
    let before = server.process.stderr.components(separatedBy: marker).count
    server.process.signal(SIGUSR1)
    let deadline = Date().addingTimeInterval(10)
    while server.process.stderr.components(separatedBy: marker).count == before {
        if Date() > deadline { fail("SIGUSR1 flush not logged") }
        usleep(10_000)
    }
}

_ = try admit()  // connection setup, first-use costs
var coldTimes: [Double] = [], coldCPU: [Double] = [], coldRequests: [Int] = []
for _ in 0..<rounds {
    flush()
    let requestsBefore = registry.requests().count
    let cpuBefore = cpuSeconds(pid)
    coldTimes.append(try admit())
    coldCPU.append(cpuSeconds(pid) - cpuBefore)
    coldRequests.append(registry.requests().count - requestsBefore)
}
let warmBefore = registry.requests().count
let warmTime = try admit()
let warmRequests = registry.requests().count - warmBefore
server.stop()
registry.stop()

// Raw signature cost: per image, the signature and the attestation each need 5 ECDSA P-256 verifications
// (payload or DSSE signature, leaf and intermediate certificate, SCT, Rekor SET).
// openssl speed times itself with SIGALRM; children of Foundation's Process start with signals blocked, so unblock first.
let unblock = "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execvp(sys.argv[1], sys.argv[1:])"
let speed = try Subprocess.run("python3", ["-c", unblock, "openssl", "speed", "-seconds", "1", "ecdsap256"], timeout: 60).stdout
let verifyRate = speed.split(separator: "\n").last { $0.contains("256 bits ecdsa") }
    .flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? 0
let checksPerImage = 10.0
let rawPerImage = verifyRate > 0 ? checksPerImage / verifyRate : 0

func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s.isEmpty ? 0 : s[s.count / 2] }
let result: [String: Any] = [
    "images": images, "rounds": rounds,
    "time_to_decision_ms": ["median": median(coldTimes) * 1000, "max": (coldTimes.max() ?? 0) * 1000],
    "warm_time_ms": warmTime * 1000, "warm_registry_requests": warmRequests,
    "registry_requests_per_image": Double(coldRequests.reduce(0, +)) / Double(rounds * images),
    "cpu_ms_per_image": median(coldCPU) * 1000 / Double(images),
    "openssl_ecdsap256_verify_per_s": verifyRate, "raw_signature_ms_per_image": rawPerImage * 1000,
    "signature_checks_per_image": checksPerImage,
]
print("| cold path (\(images) keyless-signed images with SPDX attestations, \(rounds) rounds) | value |")
print("|---|---:|")
print(String(format: "| time to decision, median (max) | %.1f ms (%.1f ms) |", median(coldTimes) * 1000, (coldTimes.max() ?? 0) * 1000))
print(String(format: "| registry round trips per image, cold | %.1f |", result["registry_requests_per_image"] as! Double))
print("| registry round trips, warm (whole Pod) | \(warmRequests) |")
print(String(format: "| server CPU per image, cold (median) | %.2f ms |", median(coldCPU) * 1000 / Double(images)))
print(String(format: "| raw signature checks per image (%.0f × ECDSA P-256 verify at %.0f/s, openssl speed) | %.2f ms |", checksPerImage, verifyRate, rawPerImage * 1000))
print(String(format: "| warm decision (all cached) | %.2f ms |", warmTime * 1000))
if let jsonOut {
    try JSONSerialization.data(withJSONObject: result, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: jsonOut))
}
