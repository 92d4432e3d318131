import Foundation
import ImagePolicy

/// One checked row of a test: an expected result against what sealgate decided.
public struct TestRow: Sendable, Codable {
    public var id: Int
    public var test: String
    public var policy: String
    public var rule: String
    public var resource: String
    public var expected: RuleResult
    /// nil when the policy, rule or resource was not found.
    public var actual: RuleResult?
    public var passed: Bool
    /// `Ok`, `Want pass, got fail`, or what was not found.
    public var reason: String
    /// Per image, which authority/attestor passed or which check failed and why.
    public var message: String
    /// `file results[i]`.
    public var location: String
}

public enum TestComparison {
    /// Compares every expected row of `test` (each of its resources) with the outcomes.
    /// `policies` are the loaded policies (to tell a missing policy or rule from a skip).
    public static func compare(_ test: KyvernoTest, policies: PolicySet, resources: [ResourceID], outcomes: [RuleOutcome],
                               patched: (KyvernoTest.Expected, ResourceID) -> String? = { _, _ in nil }) -> [TestRow] {
        var rows: [TestRow] = []
        for expected in test.results {
            func row(_ resource: String, _ actual: RuleResult?, _ reason: String? = nil, message: String = "") {
                let passed = reason == nil && actual == expected.result
                rows.append(TestRow(id: rows.count + 1, test: test.name, policy: expected.policy, rule: expected.rule, resource: resource,
                                    expected: expected.result, actual: actual, passed: passed,
                                    reason: reason ?? (passed ? "Ok" : "Want \(expected.result.rawValue), got \(actual?.rawValue ?? "nothing")"),
                                    message: message, location: expected.location))
            }
            if let missing = missingPolicyOrRule(expected, policies) {
                for name in expected.resources { row(name, nil, missing) }
                continue
            }
            for name in expected.resources {
                let matched = resources.filter { matches($0, reference: name, kind: expected.kind, namespace: expected.namespace) }
                guard !matched.isEmpty else {
                    row(name, nil, "Not found: no \(expected.kind.isEmpty ? "resource" : expected.kind) \(name) in the test's resources")
                    continue
                }
                for resource in matched {
                    let own = outcomes.filter { $0.resource == resource && policyMatches($0, expected.policy) && ruleMatches($0, expected.rule) }
                    // No verdict of this rule: an admission-level failure (tag not resolvable, ...) fails every rule, else it skipped.
                    let admission = outcomes.filter { $0.resource == resource && $0.policyKind == "-" }
                    let used = own.isEmpty ? admission : own
                    let actual = used.map(\.result).max() ?? .skip
                    if actual == expected.result, let mismatch = patched(expected, resource) {
                        row(resource.description, actual, "patchedResources: \(mismatch)", message: used.map(\.message).joined(separator: "\n"))
                    } else {
                        row(resource.description, actual, message: used.map(\.message).joined(separator: "\n"))
                    }
                }
            }
        }
        return rows
    }

    static func missingPolicyOrRule(_ e: KyvernoTest.Expected, _ set: PolicySet) -> String? {
        if set.clusterImagePolicies.contains(where: { $0.name == e.policy }) {
            return e.rule.isEmpty || e.rule == "-" || e.rule == e.policy ? nil : "Not found: ClusterImagePolicy \(e.policy) has no rules (leave rule empty)"
        }
        if set.imageValidatingPolicies.contains(where: { $0.name == e.policy }) {
            return e.rule.isEmpty || e.rule == "-" ? nil : "Not found: ImageValidatingPolicy \(e.policy) has no rules (leave rule empty)"
        }
        let kyverno = set.kyvernoPolicies.filter { $0.qualifiedName == e.policy || $0.name == e.policy }
        guard !kyverno.isEmpty else { return "Not found: policy \(e.policy) is not in the test's policies" }
        let rules = kyverno.flatMap { $0.rules.map(\.name) }
        return rules.contains(where: { ruleNames($0).contains(e.rule) }) ? nil : "Not found: policy \(e.policy) has no verifyImages rule \(e.rule)"
    }

    /// A Pod rule also answers to its autogen names (Kyverno reports controller results under them).
    static func ruleNames(_ rule: String) -> [String] { [rule, "autogen-\(rule)", "autogen-cronjob-\(rule)"] }

    static func policyMatches(_ o: RuleOutcome, _ name: String) -> Bool {
        o.policy == name || (["Policy", "NamespacedImageValidatingPolicy"].contains(o.policyKind) && o.policy.split(separator: "/").last.map(String.init) == name)
    }

    static func ruleMatches(_ o: RuleOutcome, _ rule: String) -> Bool {
        if ["ClusterImagePolicy", "ImageValidatingPolicy", "NamespacedImageValidatingPolicy"].contains(o.policyKind) { return true }
        return ruleNames(o.rule).contains(rule)
    }

    /// `name` or `namespace/name` (longer forms: the last two parts), of `kind` when given.
    static func matches(_ r: ResourceID, reference: String, kind: String, namespace: String?) -> Bool {
        if !kind.isEmpty && kind.lowercased() != r.kind.lowercased() { return false }
        let parts = reference.split(separator: "/").map(String.init)
        guard let name = parts.last, name == r.name else { return false }
        let ns = parts.count >= 2 ? parts[parts.count - 2] : namespace
        return ns == nil || ns == (r.namespace ?? "default")
    }
}

/// `kyverno test`-style tables.
public enum Table {
    public static func render(_ header: [String], _ rows: [[String]]) -> String {
        let cells = [header] + rows
        var widths = header.map { _ in 0 }
        for row in cells { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.split(separator: "\n").map(\.count).max() ?? 0) } }
        let rule = "│" + widths.map { String(repeating: "─", count: $0 + 2) }.joined(separator: "│") + "│"
        func line(_ row: [String]) -> [String] {
            let split = row.map { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
            let height = split.map(\.count).max() ?? 1
            return (0..<height).map { h in
                "│" + split.enumerated().map { i, c in
                    let text = h < c.count ? c[h] : ""
                    return " " + text + String(repeating: " ", count: widths[i] - text.count) + " "
                }.joined(separator: "│") + "│"
            }
        }
        var out = [rule] + line(header) + [rule]
        for row in rows { out += line(row) }
        out.append(rule)
        return out.joined(separator: "\n")
    }

    /// The test result table; `detailed` adds each row's message (which check passed or failed, per image).
    public static func testRows(_ rows: [TestRow], detailed: Bool) -> String {
        var header = ["ID", "POLICY", "RULE", "RESOURCE", "RESULT", "REASON"]
        if detailed { header.append("MESSAGE") }
        return render(header, rows.map { r in
            var cells = [String(r.id), r.policy, r.rule.isEmpty ? "-" : r.rule, r.resource, r.passed ? "Pass" : "Fail", r.reason]
            if detailed { cells.append(r.message) }
            return cells
        })
    }
}
