import Foundation
import Testing
import TestSupport

/// deploy/: plain manifests (kustomize base, cert-manager overlay, CRDs).
@Suite struct ManifestTests {
    @Test func everyManifestParsesAndValidatesAgainstKubernetesSchemas() throws {
        guard let report = try Manifests.validate(["deploy"]) else { return }
        Manifests.expectValid(report)
        // Oldest supported and newest bundled Kubernetes versions.
        #expect(report.versions.count == 2)
        let kinds = Set(report.documents.map(\.kind))
        for kind in ["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Deployment",
                     "Service", "PodDisruptionBudget", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
                     "CustomResourceDefinition", "Issuer", "Certificate", "Kustomization"] {
            #expect(kinds.contains(kind), "deploy/ has no \(kind)")
        }
        // Built-in kinds are validated, never skipped.
        for doc in report.documents where doc.status == "skipped" {
            #expect(!["Deployment", "Service", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"].contains(doc.kind))
        }
    }

    /// Negative control: the validator is strict, so a wrong manifest fails.
    @Test func validatorRejectsAnInvalidManifest() throws {
        // Two mistakes, one per document: an unknown field (strict mode) and a wrong type.
        let broken = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: typo}
        spec:
          replica: 2
          selector: {matchLabels: {app: x}}
          template:
            metadata: {labels: {app: x}}
            spec:
              containers: [{name: x, image: x}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: wrong-type}
        spec:
          ports: [{port: "https"}]
        """
        guard let report = try Manifests.validate(yaml: broken) else { return }
        #expect(report.exitStatus == 1)
        #expect(report.documents.count == 2 && report.documents.allSatisfy { $0.status == "invalid" })
        #expect(report.documents.first?.reason.contains("replica") == true, "\(report.documents.first?.reason ?? "")")
        #expect(report.documents.last?.reason.contains("ports/0/port") == true, "\(report.documents.last?.reason ?? "")")
    }

    @Test func deploymentIsHardenedAndUsesRealFlags() throws {
        guard let report = try Manifests.validate(["deploy/base"]), let sealgate = Deploy.sealgate() else { return }
        guard let deployment = report.one("Deployment") else { return }
        expectHardenedDeployment(deployment, flags: try serveFlags(sealgate))
        #expect((dig(deployment.object, "spec", "replicas") as? Int ?? 0) >= 2)
        #expect(dig(deployment.object, "spec", "template", "spec", "affinity", "podAntiAffinity") != nil)
        #expect(deployment.namespace == "sealgate-system")
        // Same non-root uid as the image's USER.
        let dockerfile = try Deploy.read("Dockerfile")
        let uid = dig(deployment.object, "spec", "template", "spec", "securityContext", "runAsUser") as? Int
        #expect(uid == 65532 && dockerfile.contains("USER 65532"))

        // The PDB and Service select the Deployment's pods.
        let podLabels = dig(deployment.object, "spec", "template", "metadata", "labels") as? [String: String] ?? [:]
        let pdb = report.one("PodDisruptionBudget")
        let pdbSel = dig(pdb?.object, "spec", "selector", "matchLabels") as? [String: String] ?? [:]
        #expect(!pdbSel.isEmpty && pdbSel.allSatisfy { podLabels[$0.key] == $0.value })
        let service = report.one("Service")
        let svcSel = dig(service?.object, "spec", "selector") as? [String: String] ?? [:]
        #expect(!svcSel.isEmpty && svcSel.allSatisfy { podLabels[$0.key] == $0.value })
        let target = dig(service?.object, "spec", "ports", "0", "targetPort")
        #expect((target as? String) == "https" || (target as? Int) == 8443)
        // The pod runs as the ServiceAccount the RBAC binds.
        let sa = dig(deployment.object, "spec", "template", "spec", "serviceAccountName") as? String
        #expect(sa == report.one("ServiceAccount")?.name)
    }

    @Test func webhooksAreScopedAndFailClosed() throws {
        guard let report = try Manifests.validate(["deploy/base"]) else { return }
        guard let service = report.one("Service"),
              let validating = report.one("ValidatingWebhookConfiguration"),
              let mutating = report.one("MutatingWebhookConfiguration") else { return }
        expectWebhookConfiguration(validating, service: service, path: "/validate")
        expectWebhookConfiguration(mutating, service: service, path: "/mutate")
        for config in [validating, mutating] {
            for hook in config.object["webhooks"] as? [[String: Any]] ?? [] {
                expectNamespaceSelector(hook, excludes: ["kube-system", "sealgate-system"], optIn: ("policy.sigstore.dev/include", "true"))
            }
        }
    }

    @Test func rbacIsLeastPrivilege() throws {
        guard let report = try Manifests.validate(["deploy/base"]) else { return }
        let clusterRole = report.one("ClusterRole")
        var granted: [String: Set<String>] = [:]
        for rule in clusterRole?.object["rules"] as? [[String: Any]] ?? [] {
            // Read-only, except creating Events that report invalid policies; workloads' pull secrets: get only.
            let allowed: Set<String> = strings(rule["resources"]) == ["events"] ? ["create"]
                : strings(rule["resources"]) == ["secrets", "serviceaccounts"] ? ["get"] : ["get", "list", "watch"]
            #expect(Set(strings(rule["verbs"])).isSubset(of: allowed), "ClusterRole may only read (and create events)")
            for g in strings(rule["apiGroups"]) { for r in strings(rule["resources"]) { granted["\(r).\(g)"] = Set(strings(rule["verbs"])) } }
        }
        #expect(Set(granted.keys) == ["clusterimagepolicies.policy.sigstore.dev", "trustroots.policy.sigstore.dev",
                                      "clusterpolicies.kyverno.io", "policies.kyverno.io", "imagevalidatingpolicies.policies.kyverno.io",
                                      "namespacedimagevalidatingpolicies.policies.kyverno.io", "events.", "namespaces.",
                                      "secrets.", "serviceaccounts."])
        #expect(granted.filter { !["events.", "secrets.", "serviceaccounts."].contains($0.key) }.values.allSatisfy { $0 == ["get", "list", "watch"] })
        #expect(granted["secrets."] == ["get"] && granted["serviceaccounts."] == ["get"], "workloads' pull secrets are read, never listed")
        #expect(granted["events."] == ["create"])
        // Secrets: get only, through a namespaced Role.
        let role = report.one("Role")
        #expect(role?.namespace == "sealgate-system")
        let rules = role?.object["rules"] as? [[String: Any]] ?? []
        #expect(rules.count == 1 && strings(rules.first?["resources"]) == ["secrets"] && strings(rules.first?["verbs"]) == ["get"])
        // Bindings point at the roles and the ServiceAccount.
        for (binding, roleKind) in [("ClusterRoleBinding", "ClusterRole"), ("RoleBinding", "Role")] {
            let b = report.one(binding)
            #expect(dig(b?.object, "roleRef", "kind") as? String == roleKind)
            #expect(dig(b?.object, "subjects", "0", "name") as? String == report.one("ServiceAccount")?.name)
            #expect(dig(b?.object, "subjects", "0", "namespace") as? String == "sealgate-system")
        }
    }

    /// Every file a kustomization names exists; overlays patch objects the base has.
    @Test(arguments: ["deploy", "deploy/base", "deploy/cert-manager", "deploy/crds", "deploy/background-scan"])
    func kustomizationReferencesExist(_ dir: String) throws {
        guard let report = try Manifests.validate(["\(dir)/kustomization.yaml"]),
              let k = report.one("Kustomization") else { return }
        var refs = strings(k.object["resources"])
        for gen in k.object["configMapGenerator"] as? [[String: Any]] ?? [] { refs += strings(gen["files"]) }
        for patch in k.object["patches"] as? [[String: Any]] ?? [] { if let p = patch["path"] as? String { refs.append(p) } }
        #expect(!refs.isEmpty)
        for ref in refs {
            #expect(FileManager.default.fileExists(atPath: Deploy.path("\(dir)/\(ref)")), "\(dir)/kustomization.yaml names missing \(ref)")
        }
        // Patch targets exist in what the overlay includes.
        let patches = k.object["patches"] as? [[String: Any]] ?? []
        if !patches.isEmpty, let base = try Manifests.validate(["deploy/base"]) {
            for patch in patches {
                let kind = dig(patch, "target", "kind") as? String ?? ""
                let name = dig(patch, "target", "name") as? String ?? ""
                #expect(base.documents.contains { $0.kind == kind && $0.name == name }, "patch target \(kind)/\(name) not in base")
            }
        }
    }

    /// When kubectl (with its built-in kustomize) is on this machine, build the overlays for real and validate the output.
    /// kubectl is not available from Debian at a usable version, so CI without it relies on the structural test above.
    @Test(arguments: ["deploy", "deploy/cert-manager", "deploy/crds"])
    func kustomizeBuildValidates(_ dir: String) throws {
        guard let kubectl = Subprocess.which("kubectl") else {
            print("note: kubectl not installed; `kubectl kustomize \(dir)` not exercised (structure is checked by kustomizationReferencesExist)")
            return
        }
        let out = try Subprocess.run(kubectl, ["kustomize", dir], directory: Deploy.root.path, timeout: 120)
        #expect(out.status == 0, "kubectl kustomize \(dir): \(out.stderr)")
        guard out.status == 0, let report = try Manifests.validate(yaml: out.stdout) else { return }
        Manifests.expectValid(report)
        if dir == "deploy" || dir == "deploy/cert-manager" {
            // The generated, hash-suffixed ConfigMap is the one the Deployment mounts.
            let cm = report.one("ConfigMap")
            let volumes = dig(report.one("Deployment")?.object, "spec", "template", "spec", "volumes") as? [[String: Any]] ?? []
            #expect(volumes.contains { dig($0, "configMap", "name") as? String == cm?.name })
            #expect(cm?.name.hasPrefix("sealgate-policies-") == true)
        }
        if dir == "deploy/cert-manager" {
            for kind in ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"] {
                #expect(report.one(kind)?.annotations["cert-manager.io/inject-ca-from"] == "sealgate-system/sealgate-serving-cert")
            }
        }
    }

    /// The background-scan overlay grants what --background-scan needs and no more: workloads read-only, reports
    /// written, the Lease only in sealgate's namespace.
    @Test func backgroundScanOverlayRBAC() throws {
        guard let overlay = try Manifests.validate(["deploy/background-scan"]) else { return }
        let clusterRole = overlay.documents.first { $0.kind == "ClusterRole" && $0.name == "sealgate-background-scan" }
        var granted: [String: Set<String>] = [:]
        for rule in clusterRole?.object["rules"] as? [[String: Any]] ?? [] {
            for g in strings(rule["apiGroups"]) { for r in strings(rule["resources"]) { granted["\(r).\(g)"] = Set(strings(rule["verbs"])) } }
        }
        for workload in ["pods.", "deployments.apps", "replicasets.apps", "statefulsets.apps", "daemonsets.apps", "jobs.batch", "cronjobs.batch"] {
            #expect(granted[workload] == ["list", "watch"], "\(workload): \(granted[workload] ?? [])")
        }
        for report in ["policyreports.wgpolicyk8s.io", "clusterpolicyreports.wgpolicyk8s.io"] {
            #expect(granted[report] == ["get", "list", "create", "update", "delete"])
        }
        #expect(granted.count == 9, "nothing beyond workloads and reports: \(granted.keys.sorted())")
        let role = overlay.documents.first { $0.kind == "Role" && $0.name == "sealgate-background-scan" }
        #expect(role?.namespace == "sealgate-system")
        let rules = role?.object["rules"] as? [[String: Any]] ?? []
        #expect(rules.count == 1 && strings(rules.first?["resources"]) == ["leases"] && Set(strings(rules.first?["verbs"])) == ["get", "create", "update"])
    }

    /// The cert-manager overlay: the injected CA comes from the Certificate whose Secret the pods mount,
    /// and that certificate names the Service.
    @Test func certManagerOverlayIsConsistent() throws {
        guard let overlay = try Manifests.validate(["deploy/cert-manager"]),
              let base = try Manifests.validate(["deploy/base"]) else { return }
        let kustomization = try Deploy.read("deploy/cert-manager/kustomization.yaml")
        let annotation = "cert-manager.io/inject-ca-from: "
        let injected = kustomization.split(separator: "\n").compactMap { line -> String? in
            guard let r = line.range(of: annotation) else { return nil }
            return String(line[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        #expect(injected.count == 2, "both webhooks get the annotation")
        let certs = overlay.all("Certificate")
        for ref in Set(injected) {
            let parts = ref.split(separator: "/").map(String.init)
            let cert = certs.first { $0.namespace == parts.first && $0.name == parts.last }
            #expect(cert != nil, "\(ref) names no Certificate")
            let deployment = base.one("Deployment")
            let secrets = (dig(deployment?.object, "spec", "template", "spec", "volumes") as? [[String: Any]] ?? []).compactMap { dig($0, "secret", "secretName") as? String }
            #expect(secrets.contains(dig(cert?.object, "spec", "secretName") as? String ?? "?"), "pods mount the certificate's Secret")
            let dns = strings(dig(cert?.object, "spec", "dnsNames"))
            #expect(dns.contains("sealgate.sealgate-system.svc"))
            // Issued by the CA issuer (the chain the caBundle trusts).
            let issuer = dig(cert?.object, "spec", "issuerRef", "name") as? String
            #expect(overlay.all("Issuer").contains { $0.name == issuer && dig($0.object, "spec", "ca") != nil })
        }
    }

    @Test func clusterImagePolicyCRDServesBothVersions() throws {
        guard let report = try Manifests.validate(["deploy/crds"]),
              let crd = report.all("CustomResourceDefinition").first(where: { $0.name == "clusterimagepolicies.policy.sigstore.dev" }) else {
            Issue.record("no ClusterImagePolicy CRD"); return
        }
        #expect(crd.name == "clusterimagepolicies.policy.sigstore.dev")
        #expect(dig(crd.object, "spec", "group") as? String == "policy.sigstore.dev")
        #expect(dig(crd.object, "spec", "scope") as? String == "Cluster")
        let versions = dig(crd.object, "spec", "versions") as? [[String: Any]] ?? []
        #expect(Set(versions.compactMap { $0["name"] as? String }) == ["v1alpha1", "v1beta1"])
        #expect(versions.allSatisfy { $0["served"] as? Bool == true })
        #expect(versions.filter { $0["storage"] as? Bool == true }.count == 1)
        for v in versions {
            #expect(dig(v, "schema", "openAPIV3Schema", "properties", "spec", "properties", "authorities", "items", "x-kubernetes-preserve-unknown-fields") as? Bool == true)
        }
        // The chart ships the same file.
        let deployCopy = try Deploy.read("deploy/crds/clusterimagepolicies.policy.sigstore.dev.yaml")
        let chartCopy = try Deploy.read("charts/sealgate/files/crds/clusterimagepolicies.policy.sigstore.dev.yaml")
        #expect(deployCopy == chartCopy, "charts/sealgate/files/crds differs from deploy/crds")
    }

    /// TrustRoot: policy-controller's field names (sigstoreKeys / remote / repository), cluster-scoped, v1alpha1.
    @Test func trustRootCRD() throws {
        guard let report = try Manifests.validate(["deploy/crds"]) else { return }
        #expect(Set(report.all("CustomResourceDefinition").map(\.name)) == ["clusterimagepolicies.policy.sigstore.dev", "trustroots.policy.sigstore.dev"])
        guard let crd = report.all("CustomResourceDefinition").first(where: { $0.name == "trustroots.policy.sigstore.dev" }) else { return }
        #expect(dig(crd.object, "spec", "group") as? String == "policy.sigstore.dev")
        #expect(dig(crd.object, "spec", "scope") as? String == "Cluster")
        #expect(dig(crd.object, "spec", "names", "kind") as? String == "TrustRoot")
        let versions = dig(crd.object, "spec", "versions") as? [[String: Any]] ?? []
        #expect(versions.map { $0["name"] as? String } == ["v1alpha1"] && versions.first?["storage"] as? Bool == true)
        let spec = dig(versions.first, "schema", "openAPIV3Schema", "properties", "spec", "properties") as? [String: Any] ?? [:]
        #expect(Set(spec.keys) == ["sigstoreKeys", "remote", "repository"])
        let keys = dig(spec, "sigstoreKeys", "properties") as? [String: Any] ?? [:]
        #expect(Set(keys.keys) == ["certificateAuthorities", "tLogs", "ctLogs", "timestampAuthorities"])
        let deployCopy = try Deploy.read("deploy/crds/trustroots.policy.sigstore.dev.yaml")
        let chartCopy = try Deploy.read("charts/sealgate/files/crds/trustroots.policy.sigstore.dev.yaml")
        #expect(deployCopy == chartCopy, "charts/sealgate/files/crds differs from deploy/crds")
    }

    /// The Deployment watches cluster policies through the API with its service account.
    @Test func deploymentWatchesClusterPolicies() throws {
        guard let report = try Manifests.validate(["deploy/base"]), let deployment = report.one("Deployment") else { return }
        let args = strings(dig(deployment.object, "spec", "template", "spec", "containers", "0", "args"))
        #expect(args.contains("--kube") && args.contains("--watch-policies"))
        #expect(dig(deployment.object, "spec", "template", "spec", "automountServiceAccountToken") as? Bool != false)
    }

    /// The policies the base ships in its ConfigMap lint clean, and the --policy path the Deployment
    /// passes loads each exactly once from a kubelet-style ConfigMap volume.
    @Test func configMapPoliciesLoadOnceFromTheMountedVolume() throws {
        guard let sealgate = Deploy.sealgate(), let report = try Manifests.validate(["deploy/base"]) else { return }
        let k = report.one("Kustomization")
        let files = (k?.object["configMapGenerator"] as? [[String: Any]] ?? []).flatMap { strings($0["files"]) }
        #expect(!files.isEmpty)
        var volume: [String: String] = [:]
        var documents = 0
        for f in files {
            let text = try Deploy.read("deploy/base/\(f)")
            volume[(f as NSString).lastPathComponent] = text
            documents += report.documents.filter { $0.source.hasSuffix(f) }.count
        }
        try expectPolicyArgumentLoadsOnce(report.one("Deployment"), volume: volume, documents: documents, sealgate: sealgate)
    }
}

/// Maps the Deployment's --policy path onto a kubelet-like ConfigMap volume and lints it.
func expectPolicyArgumentLoadsOnce(_ deployment: ManifestDocument?, volume files: [String: String], documents: Int, sealgate: String,
                                   sourceLocation: SourceLocation = #_sourceLocation) throws {
    let container = dig(deployment?.object, "spec", "template", "spec", "containers", "0")
    let policyArg = strings(dig(container, "args")).first { $0.hasPrefix("--policy=") }.map { String($0.dropFirst("--policy=".count)) }
    let mount = (dig(container, "volumeMounts") as? [[String: Any]] ?? []).first { $0["name"] as? String == "policies" }?["mountPath"] as? String
    guard let policyArg, let mount, policyArg.hasPrefix(mount + "/") else {
        Issue.record("--policy (\(policyArg ?? "none")) is not under the policies mount (\(mount ?? "none"))", sourceLocation: sourceLocation)
        return
    }
    let root = try kubeletConfigMapVolume(files)
    defer { try? FileManager.default.removeItem(at: root) }
    let local = root.path + String(policyArg.dropFirst(mount.count))
    let result = try lint(sealgate, [local])
    #expect(result.status == 0, "sealgate lint \(policyArg): \(result.output)", sourceLocation: sourceLocation)
    #expect(result.validPolicies == documents, "each policy loads exactly once: \(result.output)", sourceLocation: sourceLocation)
}
