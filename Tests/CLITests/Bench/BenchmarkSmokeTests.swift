import Foundation
import Testing
import TestSupport

/// `bench/run --smoke`: every benchmark piece (sealgate, Go floor, nghttpd ceiling, h2load, micro, cold path, reporting)
/// still runs. Tiny counts; no speed is asserted — numbers live in BENCHMARKS.md.
@Suite(.serialized)
struct BenchmarkSmokeTests {
    @Test("bench/run --smoke completes and reports every server and shape")
    func smoke() throws {
        let out = try makeTemporaryDirectory("bench")
        let run = try Subprocess.run("bash", [TestPaths.packageRoot.appendingPathComponent("bench/run").path, "--smoke"],
                                     environment: ["SEALGATE_BIN": TestPaths.sealgateBinary.path, "BENCH_OUT": out.path],
                                     directory: TestPaths.packageRoot.path, timeout: 600)
        try #require(run.status == 0, "bench/run --smoke failed: \(run.stdout) \(run.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("latest.json"))) as! [String: Any]
        let rows = summary["rows"] as! [[String: Any]]
        for server in ["sealgate", "sealgate-workers", "go", "nghttpd"] {
            let mine = rows.filter { $0["server"] as? String == server }
            #expect(mine.count == (server == "nghttpd" ? 3 : 4), "\(server): \(mine)")
            for row in mine {
                #expect(row["failed"] as? Int == 0, "\(row)")
                #expect((row["rps"] as? Double ?? 0) > 0, "\(row)")
                #expect((row["latency"] as? [String: Any])?["ok"] as? Int == 300, "\(row)")
            }
        }
        let ratios = try #require(summary["ratios"] as? [[String: Any]])
        #expect(ratios.count == 4)
        #expect(ratios.allSatisfy { ($0["vs_workers"] as? Double ?? 0) > 0 }, "inline vs workers-only reported per shape: \(ratios)")
        // Open loop: sealgate, and nghttpd at the same paced rate as the machine's own reference tail.
        let open = try #require(summary["open_loop"] as? [String: Any])
        let reference = try #require(summary["open_loop_reference"] as? [String: Any])
        #expect(reference["server"] as? String == "nghttpd")
        #expect(reference["target_rps"] as? Int == open["target_rps"] as? Int, "same rate: \(open) \(reference)")
        for loop in [open, reference] { #expect((loop["latency"] as? [String: Any])?["ok"] as? Int == 200, "\(loop)") }
        let memory = try #require(summary["memory_kb"] as? [String: Int])
        #expect((memory["idle"] ?? 0) > 1000, "RSS of the server process itself, not a wrapper: \(memory)")
        // Micro benchmarks: every piece ran and took time.
        let micro = try #require(summary["micro"] as? [[String: Any]])
        for name in ["decode AdmissionReview", "endpoint", "match 1 image against 100 policies", "JMESPath condition", "parse image reference"] {
            let row = micro.first { ($0["name"] as? String)?.contains(name) == true }
            #expect((row?["nanosecondsPerOp"] as? Double ?? 0) > 0, "micro benchmark '\(name)' missing: \(micro)")
        }
        // Cold path: signed images were verified from a real registry; round trips were counted, warm needs none.
        let cold = try #require(summary["cold"] as? [String: Any])
        #expect((cold["registry_requests_per_image"] as? Double ?? 0) >= 3, "\(cold)")
        #expect(cold["warm_registry_requests"] as? Int == 0, "\(cold)")
        #expect((cold["cpu_ms_per_image"] as? Double ?? 0) > 0 && (cold["openssl_ecdsap256_verify_per_s"] as? Double ?? 0) > 0, "\(cold)")
    }
}
