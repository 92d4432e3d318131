import E2ESupport
import Foundation
import Testing
import TestSupport

/// A fresh `sealgate serve` (no request yet, no cluster, no scan) already lists every metric family README.md names,
/// and no other: label sets known in advance at 0, run-time-labeled families by their `# TYPE` line.
struct MetricFamiliesTests {
    static func readmeFamilies() throws -> Set<String> {
        let readme = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        return Set(readme.matches(of: /sealgate_[a-z_]+/).map { String($0.output) })
    }

    @Test("README's metric families are exactly those on /metrics of a fresh server; known label sets start at 0; build info is 1")
    func freshServerListsReadmeFamilies() throws {
        let world = try E2EWorld("metric-families", registry: .none)
        let cert = try world.issueCertificate(serial: 2801)
        let server = try world.serve(["--policy", TestPaths.fixtures.appendingPathComponent("policies/allow-all-static.yaml").path], tls: cert)
        defer { server.stop() }
        let text = try world.curl(server, "/metrics", ["--http2"])
        let samples = try PrometheusText.parse(text)
        let scraped = Set(text.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("# TYPE ") else { return nil }
            return line.split(separator: " ").dropFirst(2).first.map(String.init)
        })

        let readme = try Self.readmeFamilies()
        #expect(readme.count >= 30, "\(readme.sorted())")
        #expect(readme.subtracting(scraped).isEmpty, "named in README.md, missing from /metrics: \(readme.subtracting(scraped).sorted())")
        #expect(scraped.subtracting(readme).isEmpty, "on /metrics, not named in README.md: \(scraped.subtracting(readme).sorted())")
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.count == scraped.count, "one TYPE line per family")

        // Label sets known before the first request are series at 0.
        for webhook in ["validate", "mutate"] {
            for result in ["allowed", "denied", "warned", "audited"] {
                #expect(samples[#"sealgate_admission_decisions_total{webhook="\#(webhook)",result="\#(result)",mode="enforce"}"#] == 0, "\(webhook) \(result)")
            }
            #expect(samples[#"sealgate_admission_duration_seconds_count{webhook="\#(webhook)"}"#] == 0)
        }
        for decision in ["skip", "pass", "warn", "fail"] {
            for transient in ["false", "true"] {
                #expect(samples[#"sealgate_image_decisions_total{decision="\#(decision)",transient="\#(transient)"}"#] == 0, "\(decision) \(transient)")
            }
        }
        for kind in ["tls", "protocol", "timeout", "overload", "too_large", "headers_too_large", "bad_request", "max_connections"] {
            #expect(samples[#"sealgate_http_errors_total{kind="\#(kind)"}"#] == 0, "\(kind)")
        }
        for result in ["skip", "pass", "warn", "error", "fail"] {
            #expect(samples[#"sealgate_background_scan_results{result="\#(result)"}"#] == 0, "\(result)")
        }
        #expect(samples["sealgate_background_scan_workloads_scanned_total"] == 0 && samples["sealgate_policy_invalid_total"] == 0)
        #expect(samples["sealgate_policies_loaded"] == 1)
        // Labels known only at run time: the family is announced, with no series yet.
        for family in ["sealgate_registry_requests_total", "sealgate_policy_verdicts_total", "sealgate_trust_root_age_seconds"] {
            #expect(text.contains("# TYPE \(family) ") && !samples.keys.contains { $0.hasPrefix(family + "{") }, "\(family)")
        }

        let build = try #require(samples.first { $0.key.hasPrefix("sealgate_build_info{") }, "no sealgate_build_info in\n\(text)")
        #expect(build.value == 1)
        let version = try SealgateCLI.run(["version", "-o", "json"])
        let info = try #require(try JSONSerialization.jsonObject(with: Data(version.stdout.utf8)) as? [String: String])
        for (label, key) in [("version", "version"), ("commit", "commit"), ("swift_version", "swift"), ("openssl_version", "openssl"),
                             ("nghttp2_version", "nghttp2"), ("build_date", "buildDate")] {
            #expect(build.key.contains(#"\#(label)="\#(info[key] ?? "-")""#), "\(label) in \(build.key)")
        }
    }
}
