import E2ESupport
import Foundation
import KubernetesTestSupport
import SealgateCore
import SigstoreTestSupport
import Testing
import TestSupport

/// `sealgate serve --kubeconfig … --background-scan` against the Kubernetes API double and a real registry with an
/// access log: 200 Pods in 5 namespaces over 20 images (signed, unsigned, signed with the wrong key), reports equal
/// to `sealgate apply` over the same objects, re-scans, deletions, and two replicas sharing one Lease.
@Suite(.serialized)
struct BackgroundScanE2ETests {
    static let reports = "policyreports.wgpolicyk8s.io"

    final class World: @unchecked Sendable {
        let e2e: E2EWorld
        let policyFile: URL
        var images: [String] = []
        var expected: [String: String] = [:]   // repository -> pass/fail under the policy

        init(signed: Int, unsigned: Int, wrong: Int) throws {
            e2e = try E2EWorld("scan-e2e", registry: .plain(accessLog: true))
            for i in 0..<(signed + unsigned + wrong) {
                let repo = "scan/img\(i)"
                if i < signed {
                    try e2e.pushSigned(repo)
                } else if i < signed + unsigned {
                    try e2e.pushImage(repo)
                } else {
                    try e2e.pushSigned(repo, options: e2e.keyed(.newP256()))   // a key the keyless policy does not accept
                }
                images.append(e2e.ref(repo, ":v1"))
                expected[e2e.ref(repo, ":v1")] = i < signed ? "pass" : "fail"
            }
            policyFile = try e2e.write(Self.policy(host: e2e.host, subjectRegExp: "^https://github.com/sealgate/.*"), to: "policies/scan.yaml")
        }

        static func policy(host: String, subjectRegExp: String) -> String {
            E2EWorld.keylessPolicy(name: "scan-keyless", glob: "\(host)/scan/**", subjectRegExp: subjectRegExp)
        }

        func setPolicy(subjectRegExp: String) throws {
            try Self.policy(host: e2e.host, subjectRegExp: subjectRegExp).write(to: policyFile, atomically: true, encoding: .utf8)
        }

        /// Pod `i` of `count` over the images, in namespace ns(i % 5).
        func pod(_ i: Int) -> JSONValue {
            let ns = "ns\(i % 5)"
            return ["apiVersion": "v1", "kind": "Pod",
                    "metadata": ["name": .string("pod-\(i)"), "namespace": .string(ns), "uid": .string("uid-\(ns)-pod-\(i)"), "labels": ["app": "scan"]],
                    "spec": ["containers": [["name": "app", "image": .string(images[i % images.count])]]]]
        }

        func serve(_ api: FakeAPIServer, identity: String, extra: [String] = []) throws -> SealgateServer {
            let kubeconfig = try api.writeKubeconfig(in: e2e.dir)
            return try e2e.serve(["--policy", policyFile.deletingLastPathComponent().path, "--kubeconfig", kubeconfig, "--background-scan",
                                  "--replica-identity", identity, "--background-scan-rate", "50"] + extra + e2e.trustFlags)
        }
    }

    /// (namespace/name, policy) -> result, from the stored reports.
    static func reportResults(_ api: FakeAPIServer) throws -> [String: String] {
        var out: [String: String] = [:]
        for report in try api.objects(reports) {
            for r in report["results"]?.arrayValue ?? [] {
                let res = r["resources"]?.arrayValue?.first
                out["\(res?["namespace"]?.stringValue ?? "")/\(res?["name"]?.stringValue ?? "") \(r["policy"]?.stringValue ?? "")"] =
                    "\(r["result"]?.stringValue ?? "") \(r["message"]?.stringValue ?? "")"
            }
        }
        return out
    }

    static func metric(_ metrics: String, _ line: String) -> Double? {
        metrics.split(separator: "\n").first { $0.hasPrefix(line + " ") }.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
    }

    @Test("200 Pods, 5 namespaces, 20 images: reports equal sealgate apply, registry traffic within the cold set; policy edit and Pod deletion followed")
    func scanEqualsApply() async throws {
        let world = try World(signed: 8, unsigned: 6, wrong: 6)
        let e2e = world.e2e
        defer { e2e.stop() }
        let api = try FakeAPIServer()
        let pods = (0..<200).map(world.pod)
        for ns in 0..<5 { try api.put("namespaces", ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string("ns\(ns)")]]) }
        for pod in pods { try api.put("pods", pod) }

        // sealgate apply, cold, over the same objects: the expected results and the cold registry request set.
        let list = try e2e.write(JSONValue.object(["apiVersion": "v1", "kind": "List", "items": .array(try api.objects("pods"))]).jsonString, to: "pods.json")
        var mark = e2e.registry.requests().count
        let applied = try e2e.sealgate(["apply", "--policy", world.policyFile.path, "--cluster-json", list.path, "--audit", "-o", "json"] + e2e.trustFlags)
        #expect(applied.status == 0, "\(applied.stderr)")
        let cold = Array(e2e.registry.requests().dropFirst(mark))
        let outcomes = try #require(try JSONSerialization.jsonObject(with: Data(applied.stdout.utf8)) as? [[String: Any]], "\(applied.stdout.prefix(500))")
        var expected: [String: String] = [:]
        for o in outcomes {
            let r = o["resource"] as? [String: Any] ?? [:]
            expected["\(r["namespace"] as? String ?? "")/\(r["name"] as? String ?? "") \(o["policy"] as? String ?? "")"] =
                "\(o["result"] as? String ?? "") \(o["message"] as? String ?? "")"
        }
        #expect(expected.count == 200 && expected.values.filter { $0.hasPrefix("pass") }.count == 80, "\(expected.values.map { $0.prefix(4) })")

        mark = e2e.registry.requests().count
        let server = try world.serve(api, identity: "solo", extra: ["--background-scan-interval", "6"])
        defer { server.stop() }
        #expect(try await eventually(timeout: 90) { try Self.reportResults(api).count == 200 }, "\(server.process.stderr.suffix(3000))")
        let firstScan = Array(e2e.registry.requests().dropFirst(mark))
        #expect(try Self.reportResults(api) == expected, "reports differ from sealgate apply")
        // At most the cold request set: each request of the first scan is matched by one of apply's cold run.
        var budget: [String: Int] = [:]
        for r in cold { budget[r, default: 0] += 1 }
        for r in firstScan { budget[r, default: 0] -= 1 }
        #expect(budget.values.allSatisfy { $0 >= 0 }, "first scan: \(firstScan.count) requests, cold: \(cold.count); extra: \(budget.filter { $0.value < 0 })")
        #expect(try api.objects(Self.reports).count == 5)
        let stream = try api.objects(Self.reports).map(\.jsonString).joined(separator: "\n---\n")
        let validated = try Subprocess.run("python3", [TestPaths.fixtures.appendingPathComponent("policytest/validate_policyreport.py").path], stdin: Data(stream.utf8))
        #expect(validated.status == 0, "\(validated.stdout)")

        let metrics = try e2e.curl(server, "/metrics")
        #expect(Self.metric(metrics, #"sealgate_background_scan_lease_holder{identity="solo"}"#) == 1, "\(metrics.split(separator: "\n").filter { $0.contains("background") })")
        #expect((Self.metric(metrics, "sealgate_background_scan_workloads_scanned_total") ?? 0) >= 200)
        #expect(Self.metric(metrics, #"sealgate_background_scan_results{result="pass"}"#) == 80)
        #expect(metrics.contains("sealgate_background_scan_duration_seconds"))

        // Deleting a Pod removes its result.
        try api.delete("pods", namespace: "ns0", name: "pod-0")
        #expect(try await eventually(timeout: 10) { try Self.reportResults(api)["ns0/pod-0 scan-keyless"] == nil && (try Self.reportResults(api)).count == 199 })

        // A policy edit (identity no longer matches) turns the signed images' results to fail within one re-scan period.
        let edited = Date()
        try world.setPolicy(subjectRegExp: "^https://github.com/someone-else/.*")
        #expect(try await eventually(timeout: 6 + 4) { try Self.reportResults(api).values.allSatisfy { !$0.hasPrefix("pass") } },
                "\(server.process.stderr.suffix(2000))")
        #expect(Date().timeIntervalSince(edited) < 6 + 4)
    }

    @Test("replicas: exactly one writes; stopping it (SIGTERM) or killing it (SIGKILL) moves the writing to another within the lease duration, never interleaved")
    func twoReplicas() async throws {
        let world = try World(signed: 2, unsigned: 1, wrong: 1)
        let e2e = world.e2e
        defer { e2e.stop() }
        let api = try FakeAPIServer()
        for i in 0..<20 { try api.put("pods", world.pod(i)) }
        let lease = ["--lease-duration", "4", "--lease-renew-deadline", "3", "--lease-retry-period", "0.5"]
        let a = try world.serve(api, identity: "a", extra: lease)
        defer { a.stop() }
        #expect(try await eventually(timeout: 60) { try Self.reportResults(api).count == 20 }, "\(a.process.stderr.suffix(2000))")
        let b = try world.serve(api, identity: "b", extra: lease)
        defer { b.stop() }
        // Changes while both run: only a writes.
        try api.delete("pods", namespace: "ns1", name: "pod-1")
        #expect(try await eventually(timeout: 10) { try Self.reportResults(api).count == 19 })
        try await Task.sleep(nanoseconds: 3_000_000_000)
        func managers() throws -> [String] {
            try api.writes().filter { $0["resource"] == .string(Self.reports) }.compactMap { $0["fieldManager"]?.stringValue }
        }
        let whileBoth = try managers()
        #expect(Set(whileBoth) == ["sealgate-a"], "\(whileBoth)")
        #expect(try api.objects("leases.coordination.k8s.io").first?["spec"]?["holderIdentity"] == "a")

        let stopped = Date()
        a.stop()
        try api.delete("pods", namespace: "ns2", name: "pod-2")
        #expect(try await eventually(timeout: 4) { try managers().last == "sealgate-b" }, "\(b.process.stderr.suffix(2000))")
        #expect(Date().timeIntervalSince(stopped) < 4, "taken over within the lease duration")
        #expect(try Self.reportResults(api).count == 18)
        let writers = try managers()
        let firstB = try #require(writers.firstIndex(of: "sealgate-b"))
        #expect(writers[..<firstB].allSatisfy { $0 == "sealgate-a" } && writers[firstB...].allSatisfy { $0 == "sealgate-b" },
                "writes interleaved: \(writers)")
        #expect(try api.objects("leases.coordination.k8s.io").first?["spec"]?["holderIdentity"] == "b")
        let metrics = try e2e.curl(b, "/metrics")
        #expect(Self.metric(metrics, #"sealgate_background_scan_lease_holder{identity="b"}"#) == 1)

        // A crash: b is SIGKILLed and cannot release the lease, so c takes over once it has seen the lease go
        // unrenewed for the lease duration (client-go's rule), i.e. within the duration plus one retry period.
        let beforeC = try managers().count
        let c = try world.serve(api, identity: "c", extra: lease)
        defer { c.stop() }
        try await Task.sleep(nanoseconds: 1_500_000_000)   // c has read the lease held by b at least twice
        let beforeKill = try managers().count
        #expect(!(try managers()[beforeC...]).contains("sealgate-c"), "c does not write while b holds the lease")
        let killed = Date()
        #expect(b.process.killProgram(), "b was killed")
        try api.delete("pods", namespace: "ns3", name: "pod-3")
        #expect(try await eventually(timeout: 8) { try managers().last == "sealgate-c" }, "\(c.process.stderr.suffix(2000))")
        let takeover = Date().timeIntervalSince(killed)
        #expect(takeover > 2 && takeover < 4 + 0.5 * 1.2 + 1.5, "taken over \(takeover) s after the kill: not before the lease expired, soon after")
        #expect(try Self.reportResults(api).count == 17)
        let afterKill = try managers()[beforeKill...]
        #expect(afterKill.allSatisfy { $0 == "sealgate-c" }, "only c writes after the kill: \(afterKill)")
        let leaseSpec = try api.objects("leases.coordination.k8s.io").first?["spec"]
        #expect(leaseSpec?["holderIdentity"] == "c")
        #expect(leaseSpec?["leaseTransitions"]?.numberValue == 2, "a → b → c")
    }

    @Test("a tag moved to an unsigned image is re-evaluated within the tag cache TTL, long before the re-scan period")
    func movedTagRescans() async throws {
        let world = try World(signed: 1, unsigned: 0, wrong: 0)
        let e2e = world.e2e
        defer { e2e.stop() }
        let api = try FakeAPIServer()
        try api.put("pods", world.pod(0))
        let server = try world.serve(api, identity: "solo", extra: ["--tag-cache-ttl", "1", "--background-scan-interval", "3600"])
        defer { server.stop() }
        func result() throws -> String? { try Self.reportResults(api).first?.value.split(separator: " ").first.map(String.init) }
        #expect(try await eventually(timeout: 30) { try result() == "pass" }, "\(server.process.stderr.suffix(2000))")
        let moved = try e2e.pushImage("scan/img0")   // same tag, new manifest, no signature
        #expect(try await eventually(timeout: 15) { try result() == "fail" }, "\(server.process.stderr.suffix(2000))")
        #expect(server.process.stderr.contains("tag moved") && server.process.stderr.contains(moved.digest), "\(server.process.stderr.suffix(2000))")
    }

    @Test("a trust root rotated over TUF re-evaluates running workloads at once: no policy change, long before the re-scan period")
    func trustRootRotationRescans() async throws {
        let world = try TUFTrustRootTests.World(signers: 2)
        defer { world.world.stop() }
        let mirror = try TUFTrustRootTests.Mirror()
        defer { mirror.stop() }
        try mirror.publish(trustedRoot: world.signers[0].trustedRootJSON())
        let policies = try TUFTrustRootTests.policies(mirror: mirror.url, root: mirror.initialRootBase64)
        let api = try FakeAPIServer()
        for n in 0..<2 {
            try api.put("pods", ["apiVersion": "v1", "kind": "Pod",
                                 "metadata": ["name": .string("signer-\(n)"), "namespace": "ns0", "uid": .string("uid-signer-\(n)")],
                                 "spec": ["containers": [["name": "app", "image": .string(world.world.ref("acme/attested-\(n)", ":v1"))]]]])
        }
        let server = try world.serve(policies: policies, cache: try makeTemporaryDirectory("tuf-cache"),
                                     extra: ["--tuf-refresh", "1", "--kubeconfig", try api.writeKubeconfig(in: world.dir), "--background-scan",
                                             "--replica-identity", "solo", "--background-scan-interval", "3600"])
        defer { server.stop() }
        func results() throws -> [String] {
            try Self.reportResults(api).sorted { $0.key < $1.key }.map { "\($0.key.split(separator: " ")[0]) \($0.value.split(separator: " ")[0])" }
        }
        // The repository trusts signer 0: its image passes, signer 1's fails.
        #expect(try await eventually(timeout: 30) { try results() == ["ns0/signer-0 pass", "ns0/signer-1 fail"] },
                "\((try? results()) ?? []) \(server.process.stderr.suffix(2000))")
        // Rotation to signer 1 only: the next TUF refresh changes the trust material, and the scan follows it.
        try mirror.publish(trustedRoot: world.signers[1].trustedRootJSON())
        #expect(try await eventually(timeout: 20) { try results() == ["ns0/signer-0 fail", "ns0/signer-1 pass"] },
                "\((try? results()) ?? []) \(server.process.stderr.suffix(2000))")
    }

    @Test("registry down, 429 and 500: transient error results and backoff; after recovery the real results replace them")
    func registryTroubleBacksOff() async throws {
        let world = try World(signed: 1, unsigned: 1, wrong: 0)
        let e2e = world.e2e
        defer { e2e.stop() }
        // Two more registries, one answering 429 (Retry-After) and one 500, under their own policy. Each backs off
        // on its own; the recovered registry's workloads are not held up by them.
        let limited = try FaultyRegistry(), failing = try FaultyRegistry()
        defer { limited.stop(); failing.stop() }
        for (name, registry) in [("scan-limited", limited), ("scan-failing", failing)] {
            _ = try e2e.write(E2EWorld.keylessPolicy(name: name, glob: "\(registry.host)/**", subjectRegExp: "^https://github.com/sealgate/.*"),
                              to: "policies/\(name).yaml")
        }
        let api = try FakeAPIServer()
        for i in 0..<2 { try api.put("pods", world.pod(i)) }
        for (name, image) in [("faulty-429", "\(limited.host)/ratelimit/app:v1"), ("faulty-500", "\(failing.host)/error500/app:v1")] {
            try api.put("pods", ["apiVersion": "v1", "kind": "Pod",
                                 "metadata": ["name": .string(name), "namespace": "ns0", "uid": .string("uid-\(name)")],
                                 "spec": ["containers": [["name": "app", "image": .string(image)]]]])
        }
        e2e.registry.stop()
        let server = try world.serve(api, identity: "solo", extra: ["--insecure-registry", limited.host, "--insecure-registry", failing.host])
        defer { server.stop() }
        /// (namespace/name) -> (result, transient flag) over every report.
        func outcomes() throws -> [String: String] {
            var out: [String: String] = [:]
            for r in try api.objects(Self.reports).flatMap({ $0["results"]?.arrayValue ?? [] }) {
                let res = r["resources"]?.arrayValue?.first
                out["\(res?["namespace"]?.stringValue ?? "")/\(res?["name"]?.stringValue ?? "")"] =
                    "\(r["result"]?.stringValue ?? "") transient=\(r["properties"]?["transient"]?.stringValue ?? "")"
            }
            return out
        }
        #expect(try await eventually(timeout: 30) { try outcomes().count == 4 }, "\(server.process.stderr.suffix(2000))")
        let down = try outcomes()
        #expect(down.values.allSatisfy { $0 == "error transient=true" }, "\(down)")
        let messages = try Self.reportResults(api)
        #expect(messages.first { $0.key.hasPrefix("ns0/faulty-429") }?.value.contains("429") == true, "\(messages)")
        #expect(messages.first { $0.key.hasPrefix("ns0/faulty-500") }?.value.contains("500") == true, "\(messages)")
        let metrics = try e2e.curl(server, "/metrics")
        #expect((Self.metric(metrics, "sealgate_background_scan_backoffs_total") ?? 0) >= 3, "\(metrics.split(separator: "\n").filter { $0.contains("backoff") })")
        try e2e.registry.restart()
        let recovered = try await eventually(timeout: 30) {
            let now = try outcomes()
            return Set([now["ns0/pod-0"], now["ns1/pod-1"]]) == ["pass transient=false", "fail transient=false"]
                && now["ns0/faulty-429"] == "error transient=true" && now["ns0/faulty-500"] == "error transient=true"
        }
        #expect(recovered, "\((try? outcomes()) ?? [:])")
    }

    @Test("--background-scan without a cluster connection is a usage error")
    func needsCluster() throws {
        let out = try SealgateCLI.run(["serve", "--plaintext", "--address", "127.0.0.1:0", "--policy", "/dev/null", "--background-scan"], timeout: 30)
        #expect(out.status != 0 && out.stderr.contains("--background-scan needs --kube"), "\(out.stderr)")
    }
}
