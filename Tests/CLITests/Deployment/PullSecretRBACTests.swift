import Foundation
import Testing

/// The chart's `pullSecrets` switch: `get` on Secrets and ServiceAccounts in every namespace (default), in listed
/// namespaces only (Roles there, and serve told to read no others), or not at all.
@Suite struct PullSecretRBACTests {
    static func clusterRuleGrantsPullSecrets(_ report: ValidationReport) -> Bool {
        let rules = dig(report.one("ClusterRole")?.object, "rules") as? [[String: Any]] ?? []
        return rules.contains { ($0["resources"] as? [String]) == ["secrets", "serviceaccounts"] && ($0["verbs"] as? [String]) == ["get"] }
    }

    static func render(_ values: String?) throws -> ValidationReport? {
        let file = try values.map { try HelmRender.valuesFile($0) }
        defer { file.map { try? FileManager.default.removeItem(at: $0) } }
        guard let r = try HelmRender.render(file.map { [$0.path] } ?? []) else { return nil }
        #expect(r.status == 0, "\(r.stderr)")
        return try Manifests.validate(yaml: r.yaml)
    }

    static func args(_ report: ValidationReport) -> [String] {
        strings(dig(report.one("Deployment")?.object, "spec", "template", "spec", "containers", "0", "args"))
    }

    @Test func everyNamespaceByDefault() throws {
        guard let report = try Self.render(nil) else { return }
        #expect(Self.clusterRuleGrantsPullSecrets(report))
        #expect(!report.all("Role").contains { $0.name.hasSuffix("-pull-secrets") })
        #expect(!Self.args(report).contains { $0.hasPrefix("--pull-secret-namespace") || $0 == "--no-workload-pull-secrets" })
    }

    @Test func listedNamespacesOnly() throws {
        guard let report = try Self.render("pullSecrets: {namespaces: [shop, payments]}") else { return }
        #expect(!Self.clusterRuleGrantsPullSecrets(report), "no cluster-wide secrets access when namespaces are listed")
        let roles = report.all("Role").filter { $0.name.hasSuffix("-pull-secrets") }
        #expect(Set(roles.compactMap(\.namespace)) == ["shop", "payments"])
        for role in roles {
            let rules = dig(role.object, "rules") as? [[String: Any]] ?? []
            #expect(rules.count == 1 && (rules.first?["resources"] as? [String]) == ["secrets", "serviceaccounts"] && (rules.first?["verbs"] as? [String]) == ["get"])
        }
        let bindings = report.all("RoleBinding").filter { $0.name.hasSuffix("-pull-secrets") }
        #expect(Set(bindings.compactMap(\.namespace)) == ["shop", "payments"])
        #expect(bindings.allSatisfy { dig($0.object, "subjects", "0", "namespace") as? String == "sealgate-system" })
        let args = Self.args(report)
        #expect(args.contains("--pull-secret-namespace=shop") && args.contains("--pull-secret-namespace=payments"), "\(args)")
    }

    @Test func switchedOff() throws {
        guard let report = try Self.render("pullSecrets: {enabled: false, namespaces: [shop]}") else { return }
        #expect(!Self.clusterRuleGrantsPullSecrets(report))
        #expect(!report.all("Role").contains { $0.name.hasSuffix("-pull-secrets") })
        #expect(Self.args(report).contains("--no-workload-pull-secrets"))
    }
}
