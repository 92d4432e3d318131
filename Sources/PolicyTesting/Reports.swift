import Foundation
import Yams

/// `wgpolicyk8s.io/v1alpha2` PolicyReports (one per namespace) and a ClusterPolicyReport (cluster-scoped
/// resources) for rule outcomes: what an audit run over a cluster's workloads would report.
public enum PolicyReports {
    public static func build(_ outcomes: [RuleOutcome], at time: Date = Date()) -> [[String: Any]] {
        let timestamp: [String: Any] = ["seconds": Int(time.timeIntervalSince1970), "nanos": 0]
        var namespaces: [String?] = []
        var grouped: [String?: [RuleOutcome]] = [:]
        for o in outcomes {
            if grouped[o.resource.namespace] == nil { namespaces.append(o.resource.namespace) }
            grouped[o.resource.namespace, default: []].append(o)
        }
        return namespaces.sorted { ($0 ?? "") < ($1 ?? "") }.map { ns in
            let list = grouped[ns]!
            var summary: [String: Int] = [:]
            for r in RuleResult.allCases { summary[r.rawValue] = 0 }
            for o in list { summary[o.result.rawValue]! += 1 }
            var metadata: [String: Any] = ["name": "sealgate-\(ns ?? "cluster")",
                                           "labels": ["app.kubernetes.io/managed-by": "sealgate"]]
            if let ns { metadata["namespace"] = ns }
            return [
                "apiVersion": "wgpolicyk8s.io/v1alpha2",
                "kind": ns == nil ? "ClusterPolicyReport" : "PolicyReport",
                "metadata": metadata,
                "summary": summary,
                "results": list.map { result($0, timestamp: timestamp) },
            ]
        }
    }

    static func result(_ o: RuleOutcome, timestamp: [String: Any]) -> [String: Any] {
        var resource: [String: Any] = ["apiVersion": o.resource.apiVersion, "kind": o.resource.kind, "name": o.resource.name]
        if let ns = o.resource.namespace { resource["namespace"] = ns }
        if let uid = o.resource.uid { resource["uid"] = uid }
        // Transient: the result may change on retry (registry unreachable, deadline), not a verdict about the image.
        var properties = ["policyKind": o.policyKind, "transient": String(o.isTransient)]
        for (i, image) in o.images.enumerated() {
            properties["image.\(i)"] = image.image + (image.digest.map { "@\($0)" } ?? "")
        }
        var r: [String: Any] = [
            "policy": o.policy, "result": o.result.rawValue, "scored": true, "source": "sealgate", "category": "Image Verification",
            "message": o.message, "timestamp": timestamp, "resources": [resource], "properties": properties,
        ]
        if !o.rule.isEmpty { r["rule"] = o.rule }
        return r
    }
}

extension RuleOutcome {
    /// An error result, or a failed check that was transient.
    public var isTransient: Bool {
        result == .error || images.contains { $0.checks.contains { !$0.passed && $0.transient } }
    }
}

/// Output encodings shared by the commands.
public enum Render {
    public static func json(_ object: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }

    /// Multi-document YAML (one document per object).
    public static func yaml(_ objects: [Any]) throws -> String {
        try objects.map { try Yams.dump(object: $0, sortKeys: true) }.joined(separator: "---\n")
    }

    /// A Codable value as a Foundation object (for YAML and reports).
    public static func foundation<T: Encodable>(_ value: T) throws -> Any {
        try JSONSerialization.jsonObject(with: try JSONEncoder().encode(value))
    }

    /// JUnit XML: one testsuite per test file, one testcase per row.
    public static func junit(_ rows: [TestRow]) -> String {
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        var suites: [String] = []
        var order: [String] = []
        var byTest: [String: [TestRow]] = [:]
        for r in rows {
            if byTest[r.test] == nil { order.append(r.test) }
            byTest[r.test, default: []].append(r)
        }
        for test in order {
            let list = byTest[test]!
            var cases = ""
            for r in list {
                let name = esc("\(r.policy)/\(r.rule.isEmpty ? "-" : r.rule)/\(r.resource) want \(r.expected.rawValue)")
                cases += "    <testcase classname=\"\(esc(test))\" name=\"\(name)\">"
                if !r.passed { cases += "<failure message=\"\(esc(r.reason))\">\(esc(r.location + "\n" + r.message))</failure>" }
                cases += "</testcase>\n"
            }
            suites.append("  <testsuite name=\"\(esc(test))\" tests=\"\(list.count)\" failures=\"\(list.filter { !$0.passed }.count)\">\n\(cases)  </testsuite>")
        }
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"\(rows.count)\" failures=\"\(rows.filter { !$0.passed }.count)\">\n"
            + suites.joined(separator: "\n") + "\n</testsuites>"
    }
}
