import BackgroundScan
import Foundation
import KubernetesAPI
import KubernetesTestSupport
import PolicyTesting
import SealgateCore
import Testing
import TestSupport

/// The report writer against the API double: creates, in-place updates, deletes, conflicts, the CRD schema.
@Suite(.serialized)
struct ReportReconcilerTests {
    static func outcome(_ namespace: String, _ pod: String, _ result: String, policy: String = "signed") throws -> RuleOutcome {
        let json = """
        {"resource": {"apiVersion": "v1", "kind": "Pod", "namespace": "\(namespace)", "name": "\(pod)", "uid": "uid-\(namespace)-\(pod)"},
         "policyKind": "ClusterImagePolicy", "policy": "\(policy)", "rule": "", "result": "\(result)", "message": "img: \(result)",
         "images": [{"image": "r.example/app:v1", "digest": "sha256:\(String(repeating: "a", count: 64))", "result": "\(result)",
                     "checks": [{"check": "authorities[0]", "kind": "signature", "passed": \(result == "pass"), "transient": \(result == "error"), "detail": "d"}]}]}
        """
        return try JSONDecoder().decode(RuleOutcome.self, from: Data(json.utf8))
    }

    static let reports = "policyreports.wgpolicyk8s.io"

    func validate(_ objects: [JSONValue]) throws -> ProcessOutput {
        let stream = objects.map(\.jsonString).joined(separator: "\n---\n")
        return try Subprocess.run("python3", [TestPaths.fixtures.appendingPathComponent("policytest/validate_policyreport.py").path], stdin: Data(stream.utf8))
    }

    @Test("create per namespace, unchanged means no write, a changed result updates in place, an empty namespace's report is deleted")
    func lifecycle() throws {
        let api = try FakeAPIServer()
        let client = try KubeClient(config: api.config)
        let reconciler = ReportReconciler(client: client, fieldManager: "sealgate-a", logger: quiet)
        let first = [try Self.outcome("shop", "web", "pass"), try Self.outcome("shop", "db", "fail"), try Self.outcome("billing", "api", "error")]
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        var writes = try reconciler.reconcile(first, now: t0) { true }
        #expect(writes.created == 2 && writes.updated == 0)
        var stored = try api.objects(Self.reports)
        #expect(stored.count == 2)
        let check = try validate(stored)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let billing = try #require(stored.first { $0["metadata"]?["namespace"] == "billing" })
        #expect(billing["results"]?.arrayValue?.first?["properties"]?["transient"] == "true", "error results carry the transient flag: \(billing.jsonString)")
        #expect(billing["summary"]?["error"]?.numberValue == 1)

        writes = try reconciler.reconcile(first, now: t0.addingTimeInterval(60)) { true }
        #expect(writes == { var w = ReportReconciler.Writes(); w.unchanged = 2; return w }(), "same results, later: nothing written")

        let second = [try Self.outcome("shop", "web", "pass"), try Self.outcome("shop", "db", "pass")]
        writes = try reconciler.reconcile(second, now: t0.addingTimeInterval(120)) { true }
        #expect(writes.updated == 1 && writes.deleted == 1 && writes.created == 0, "\(writes)")
        stored = try api.objects(Self.reports)
        let shop = try #require(stored.first)
        #expect(stored.count == 1 && shop["metadata"]?["namespace"] == "shop")
        var times: [String: Double] = [:]
        for r in shop["results"]?.arrayValue ?? [] {
            times[r["resources"]?.arrayValue?.first?["name"]?.stringValue ?? ""] = r["timestamp"]?["seconds"]?.numberValue
        }
        #expect(times == ["web": 1_800_000_000, "db": 1_800_000_120], "an unchanged result keeps its time: \(times)")
        #expect(try validate(stored).status == 0)
        let verbs = try api.writes().map { "\($0["method"]?.stringValue ?? "") \($0["namespace"]?.stringValue ?? "")" }
        #expect(verbs == ["POST billing", "POST shop", "PUT shop", "DELETE billing"], "\(verbs)")
        #expect(try api.writes().allSatisfy { $0["fieldManager"] == "sealgate-a" })
    }

    @Test("a report changed by someone else since it was read (409 Conflict) is read again and updated once")
    func conflictIsRetried() throws {
        let api = try FakeAPIServer()
        let client = try KubeClient(config: api.config)
        let reconciler = ReportReconciler(client: client, fieldManager: "sealgate-a", logger: quiet)
        _ = try reconciler.reconcile([try Self.outcome("shop", "web", "pass")]) { true }
        // Someone bumps the stored report's resourceVersion behind our back.
        var edited = try #require(try api.objects(Self.reports).first?.objectValue)
        var meta = edited["metadata"]?.objectValue ?? [:]
        meta["resourceVersion"] = nil
        edited["metadata"] = .object(meta)
        try api.put(Self.reports, .object(edited))
        let writes = try reconciler.reconcile([try Self.outcome("shop", "web", "fail")]) { true }
        #expect(writes.updated == 1)
        let codes = try api.writes().map { Int($0["code"]?.numberValue ?? 0) }
        #expect(codes == [201, 409, 200], "\(codes)")
        #expect(try api.objects(Self.reports).first?["results"]?.arrayValue?.first?["result"] == "fail")
    }

    @Test("nothing is written once mayWrite says no; a server error names the report")
    func fencingAndErrors() throws {
        let api = try FakeAPIServer()
        let client = try KubeClient(config: api.config)
        let reconciler = ReportReconciler(client: client, fieldManager: "sealgate-a", logger: quiet)
        let writes = try reconciler.reconcile([try Self.outcome("shop", "web", "pass")]) { false }
        let none = try api.writes()
        #expect(writes.created == 0 && none.isEmpty)
        try api.control("fail", ["method": "POST", "resource": .string(Self.reports), "code": 500, "count": 1])
        do {
            _ = try reconciler.reconcile([try Self.outcome("shop", "web", "pass")]) { true }
            Issue.record("a 500 must surface")
        } catch {
            #expect("\(error)".contains("PolicyReport shop/sealgate-shop") && "\(error)".contains("500"), "\(error)")
        }
        #expect(try reconciler.reconcile([try Self.outcome("shop", "web", "pass")]) { true }.created == 1)
    }
}
