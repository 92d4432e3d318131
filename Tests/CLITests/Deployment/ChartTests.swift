import Foundation
import Testing
import TestSupport

/// Builds Tests/Fixtures/deploy/helmrender once (Go text/template + sprig from Debian's Go sources, offline).
struct HelmRenderUnavailable: Error { var reason: String }

enum HelmRender {
    static let binary: Result<String, HelmRenderUnavailable> = {
        guard let go = Subprocess.which("go") else {
            return .failure(HelmRenderUnavailable(reason: "go is not installed (apt-get install golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev)"))
        }
        guard let dir = try? makeTemporaryDirectory("helmrender") else { return .failure(HelmRenderUnavailable(reason: "no temporary directory")) }
        let out = dir.appendingPathComponent("helmrender").path
        let env = ["GO111MODULE": "off", "GOPATH": "/usr/share/gocode", "GOTOOLCHAIN": "local", "GOPROXY": "off", "GOFLAGS": "",
                   "GOCACHE": FileManager.default.temporaryDirectory.appendingPathComponent("sealgate-helmrender-gocache").path]
        do {
            let r = try Subprocess.run(go, ["build", "-o", out, "."], environment: env,
                                       directory: Deploy.fixtures.appendingPathComponent("helmrender").path, timeout: 300)
            if r.status != 0 {
                return .failure(HelmRenderUnavailable(reason: "go build helmrender failed (are golang-github-masterminds-sprig-dev and golang-gopkg-yaml.v3-dev installed?): \(r.stderr)"))
            }
        } catch { return .failure(HelmRenderUnavailable(reason: "go build helmrender: \(error)")) }
        return .success(out)
    }()

    struct Rendered {
        var status: Int32
        var yaml: String
        var notes: String
        var stderr: String
    }

    /// Renders charts/sealgate with values.yaml plus the given values files (later wins), like `helm template`.
    static func render(_ valueFiles: [String], lookup: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> Rendered? {
        let bin: String
        switch binary {
        case .success(let b): bin = b
        case .failure(let why): Issue.record(Comment(rawValue: why.reason), sourceLocation: sourceLocation); return nil
        }
        let notes = FileManager.default.temporaryDirectory.appendingPathComponent("notes-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: notes) }
        var args = ["-chart", Deploy.chart, "-name", "sealgate", "-namespace", "sealgate-system", "-notes", notes.path]
        for f in valueFiles { args += ["-f", f] }
        if let lookup { args += ["-lookup", lookup] }
        let r = try Subprocess.run(bin, args, directory: Deploy.root.path, timeout: 120)
        return Rendered(status: r.status, yaml: r.stdout, notes: (try? String(contentsOf: notes, encoding: .utf8)) ?? "", stderr: r.stderr)
    }

    static func values(_ name: String) -> String { Deploy.fixtures.appendingPathComponent("values/\(name)").path }

    static func valuesFile(_ yaml: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("values-\(UUID().uuidString).yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url
    }
}

@Suite struct ChartTests {
    static let scenarios = ["default", "ha-certmanager-monitoring.yaml", "existing-configmap-audit.yaml"]

    /// Renders each scenario and validates the output like deploy/.
    @Test(arguments: scenarios)
    func rendersAndValidates(_ scenario: String) throws {
        let files = scenario == "default" ? [] : [HelmRender.values(scenario)]
        guard let r = try HelmRender.render(files) else { return }
        #expect(r.status == 0, "render failed: \(r.stderr)")
        guard r.status == 0, let report = try Manifests.validate(yaml: r.yaml) else { return }
        Manifests.expectValid(report)
        // Each output document says which template produced it, and NOTES.txt is separate.
        #expect(r.yaml.components(separatedBy: "# Source: sealgate/templates/").count - 1 == report.documents.count)
        #expect(!r.yaml.contains("NOTES") && r.notes.contains("kubectl label namespace") && r.notes.contains("sealgate-system"))
        #expect(!r.yaml.contains("<no value>"))
        if let sealgate = Deploy.sealgate(), let deployment = report.one("Deployment") {
            expectHardenedDeployment(deployment, flags: try serveFlags(sealgate))
        }
    }

    @Test func defaultValues() throws {
        guard let r = try HelmRender.render([]), r.status == 0, let report = try Manifests.validate(yaml: r.yaml) else { return }
        let kinds = report.documents.map(\.kind)
        for kind in ["ServiceAccount", "ClusterRole", "Role", "Deployment", "Service", "PodDisruptionBudget", "ConfigMap", "Secret",
                     "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"] {
            #expect(kinds.contains(kind), "default render has no \(kind)")
        }
        for kind in ["HorizontalPodAutoscaler", "ServiceMonitor", "Certificate", "CustomResourceDefinition"] {
            #expect(!kinds.contains(kind), "\(kind) is off by default")
        }
        guard let service = report.one("Service"), let validating = report.one("ValidatingWebhookConfiguration"),
              let mutating = report.one("MutatingWebhookConfiguration"), let deployment = report.one("Deployment") else { return }
        expectWebhookConfiguration(validating, service: service, path: "/validate")
        expectWebhookConfiguration(mutating, service: service, path: "/mutate")
        for hook in [validating, mutating].flatMap({ $0.object["webhooks"] as? [[String: Any]] ?? [] }) {
            expectNamespaceSelector(hook, excludes: ["kube-system", "sealgate-system"], optIn: ("policy.sigstore.dev/include", "true"))
        }
        #expect(dig(deployment.object, "spec", "replicas") as? Int == 2)
        #expect(dig(deployment.object, "spec", "template", "spec", "containers", "0", "image") as? String == "ghcr.io/sealgate/sealgate:0.1.0")

        // genCA/genSignedCert: a real chain for the Service name, and the same CA in both caBundles.
        guard let secret = report.one("Secret") else { return }
        #expect(dig(secret.object, "type") as? String == "kubernetes.io/tls")
        let volumes = dig(deployment.object, "spec", "template", "spec", "volumes") as? [[String: Any]] ?? []
        #expect(volumes.contains { dig($0, "secret", "secretName") as? String == secret.name })
        let ca = dig(secret.object, "data", "ca.crt") as? String ?? ""
        for config in [validating, mutating] {
            #expect(dig(config.object, "webhooks", "0", "clientConfig", "caBundle") as? String == ca)
        }
        if let openssl = Deploy.tool("openssl", "verifies the chart-generated certificate") {
            let dir = try makeTemporaryDirectory("chart-tls")
            defer { try? FileManager.default.removeItem(at: dir) }
            for key in ["tls.crt", "tls.key", "ca.crt"] {
                let b64 = dig(secret.object, "data", key) as? String ?? ""
                try #require(Data(base64Encoded: b64)).write(to: dir.appendingPathComponent(key))
            }
            let verify = try Subprocess.run(openssl, ["verify", "-CAfile", dir.appendingPathComponent("ca.crt").path,
                                                      "-purpose", "sslserver", dir.appendingPathComponent("tls.crt").path], timeout: 30)
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
            let text = try Subprocess.run(openssl, ["x509", "-noout", "-text", "-in", dir.appendingPathComponent("tls.crt").path], timeout: 30)
            #expect(text.stdout.contains("DNS:sealgate.sealgate-system.svc"), "SAN names the Service")
            // The key belongs to the certificate.
            let certPub = try Subprocess.run(openssl, ["x509", "-noout", "-pubkey", "-in", dir.appendingPathComponent("tls.crt").path], timeout: 30)
            let keyPub = try Subprocess.run(openssl, ["pkey", "-pubout", "-in", dir.appendingPathComponent("tls.key").path], timeout: 30)
            #expect(!certPub.stdout.isEmpty && certPub.stdout == keyPub.stdout)
        }

        // The inline policies lint clean and load once through the Deployment's --policy path.
        if let sealgate = Deploy.sealgate(), let cm = report.one("ConfigMap") {
            #expect(volumes.contains { dig($0, "configMap", "name") as? String == cm.name })
            let data = cm.object["data"] as? [String: String] ?? [:]
            #expect(!data.isEmpty)
            try expectPolicyArgumentLoadsOnce(deployment, volume: data, documents: data.count, sealgate: sealgate)
        }
    }

    @Test func haCertManagerMonitoring() throws {
        guard let r = try HelmRender.render([HelmRender.values("ha-certmanager-monitoring.yaml")]), r.status == 0,
              let report = try Manifests.validate(yaml: r.yaml) else { return }
        guard let deployment = report.one("Deployment"), let hpa = report.one("HorizontalPodAutoscaler") else { return }
        // HPA owns the replica count.
        #expect(dig(deployment.object, "spec", "replicas") == nil)
        #expect(dig(hpa.object, "spec", "minReplicas") as? Int == 3 && dig(hpa.object, "spec", "maxReplicas") as? Int == 10)
        #expect(dig(hpa.object, "spec", "scaleTargetRef", "name") as? String == deployment.name)
        let container = dig(deployment.object, "spec", "template", "spec", "containers", "0")
        #expect((dig(container, "image") as? String)?.hasSuffix("@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef") == true)
        // Registry pull secret mounted where sealgate reads Docker config.
        let env = dig(container, "env") as? [[String: Any]] ?? []
        let dockerConfig = env.first { $0["name"] as? String == "DOCKER_CONFIG" }?["value"] as? String
        let mounts = dig(container, "volumeMounts") as? [[String: Any]] ?? []
        #expect(mounts.contains { $0["mountPath"] as? String == dockerConfig && $0["name"] as? String == "registry-auth" })
        let volumes = dig(deployment.object, "spec", "template", "spec", "volumes") as? [[String: Any]] ?? []
        #expect(volumes.contains { dig($0, "secret", "secretName") as? String == "sealgate-registry-auth"
            && dig($0, "secret", "items", "0", "path") as? String == "config.json" })

        // cert-manager: CA injected from the Certificate whose Secret the pods and the ServiceMonitor use.
        #expect(!report.documents.contains { $0.kind == "Secret" }, "no chart-generated Secret with cert-manager")
        let serving = report.all("Certificate").first { $0.name == "sealgate-serving-cert" }
        let secretName = dig(serving?.object, "spec", "secretName") as? String
        #expect(volumes.contains { dig($0, "secret", "secretName") as? String == secretName })
        let servingDNS = strings(dig(serving?.object, "spec", "dnsNames"))
        #expect(servingDNS.contains("sealgate.sealgate-system.svc"))
        for kind in ["ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"] {
            let config = report.one(kind)
            #expect(config?.annotations["cert-manager.io/inject-ca-from"] == "sealgate-system/sealgate-serving-cert")
            #expect(dig(config?.object, "webhooks", "0", "clientConfig", "caBundle") == nil)
            #expect(dig(config?.object, "webhooks", "0", "timeoutSeconds") as? Int == 5)
            if let hook = dig(config?.object, "webhooks", "0") as? [String: Any] {
                expectNamespaceSelector(hook, excludes: ["kube-system", "cert-manager", "monitoring", "sealgate-system"], optIn: ("policy.sigstore.dev/include", "true"))
            }
        }
        let monitor = report.one("ServiceMonitor")
        #expect(dig(monitor?.object, "metadata", "labels", "release") as? String == "kube-prometheus-stack")
        #expect(dig(monitor?.object, "spec", "endpoints", "0", "path") as? String == "/metrics")
        #expect(dig(monitor?.object, "spec", "endpoints", "0", "scheme") as? String == "https")
        #expect(dig(monitor?.object, "spec", "endpoints", "0", "tlsConfig", "ca", "secret", "name") as? String == secretName)
        #expect(dig(monitor?.object, "spec", "endpoints", "0", "port") as? String == "https")
        // CRDs toggle renders the same CRDs (ClusterImagePolicy, TrustRoot) as deploy/crds.
        guard let plain = try Manifests.validate(["deploy/crds"]) else { return }
        let crds = report.all("CustomResourceDefinition")
        #expect(crds.map(\.name).sorted() == ["clusterimagepolicies.policy.sigstore.dev", "trustroots.policy.sigstore.dev"])
        for crd in crds {
            let rendered = NSDictionary(dictionary: crd.object)
            let same = rendered.isEqual(to: plain.all("CustomResourceDefinition").first { $0.name == crd.name }?.object ?? ["": 0])
            #expect(same, "chart CRD \(crd.name) differs from deploy/crds")
        }
    }

    @Test func existingConfigMapAuditMode() throws {
        guard let r = try HelmRender.render([HelmRender.values("existing-configmap-audit.yaml")]), r.status == 0,
              let report = try Manifests.validate(yaml: r.yaml) else { return }
        let kinds = report.documents.map(\.kind)
        #expect(!kinds.contains("ConfigMap") && !kinds.contains("MutatingWebhookConfiguration") && !kinds.contains("PodDisruptionBudget")
            && !kinds.contains("Secret"))
        guard let deployment = report.one("Deployment"), let service = report.one("Service"),
              let validating = report.one("ValidatingWebhookConfiguration") else { return }
        #expect(deployment.name == "image-gate" && service.name == "image-gate")
        expectWebhookConfiguration(validating, service: service, path: "/validate", failurePolicy: "Ignore")
        let hook = dig(validating.object, "webhooks", "0") as? [String: Any] ?? [:]
        expectNamespaceSelector(hook, excludes: ["kube-system", "sealgate-system"], optIn: ("sealgate.dev/audit", "enabled"))
        #expect((dig(hook, "clientConfig", "caBundle") as? String)?.hasPrefix("LS0t") == true)
        let volumes = dig(deployment.object, "spec", "template", "spec", "volumes") as? [[String: Any]] ?? []
        #expect(volumes.contains { dig($0, "configMap", "name") as? String == "platform-image-policies" })
        #expect(volumes.contains { dig($0, "secret", "secretName") as? String == "image-gate-serving" })
        let args = strings(dig(deployment.object, "spec", "template", "spec", "containers", "0", "args"))
        #expect(args.contains("--log-level=debug") && args.contains("--max-body-bytes=1048576"))
        #expect(r.notes.contains("platform-image-policies (existing)"))
        // The audit rollout turns the background scan on, with the RBAC it needs.
        #expect(args.contains("--background-scan") && args.contains("--background-scan-namespaces=shop,billing"), "\(args)")
        let clusterRules = dig(report.one("ClusterRole")?.object ?? [:], "rules") as? [[String: Any]] ?? []
        #expect(clusterRules.contains { strings($0["resources"]).contains("policyreports") && strings($0["verbs"]).contains("update") })
        #expect(clusterRules.contains { strings($0["resources"]).contains("pods") && strings($0["verbs"]) == ["list", "watch"] })
        let roleRules = dig(report.one("Role")?.object ?? [:], "rules") as? [[String: Any]] ?? []
        #expect(roleRules.contains { strings($0["resources"]) == ["leases"] })
    }

    /// Invalid combinations fail the render with a message instead of producing broken manifests.
    @Test(arguments: [
        ("certificates: {mode: existing}", "certificates.existing.secretName is required"),
        ("certificates: {mode: existing, existing: {secretName: s}}", "certificates.existing.caBundle is required"),
        ("certificates: {mode: letsencrypt}", "certificates.mode must be"),
        ("webhook: {failurePolicy: Maybe}", "webhook.failurePolicy must be Fail or Ignore"),
    ])
    func invalidValuesFailTheRender(_ values: String, _ message: String) throws {
        let file = try HelmRender.valuesFile(values)
        defer { try? FileManager.default.removeItem(at: file) }
        guard let r = try HelmRender.render([file.path]) else { return }
        #expect(r.status != 0)
        #expect(r.stderr.contains(message), "\(r.stderr)")
    }

    /// On upgrade (the Secret exists) the chart reuses its certificate, so caBundle and the
    /// serving certificate never disagree; a fresh install generates a new CA.
    @Test func upgradeReusesTheGeneratedCertificate() throws {
        guard let first = try HelmRender.render([]), first.status == 0 else { return }
        let installed = try HelmRender.valuesFile(first.yaml)
        defer { try? FileManager.default.removeItem(at: installed) }
        guard let upgrade = try HelmRender.render([], lookup: installed.path), upgrade.status == 0,
              let fresh = try HelmRender.render([]), fresh.status == 0,
              let a = try Manifests.validate(yaml: first.yaml), let b = try Manifests.validate(yaml: upgrade.yaml),
              let c = try Manifests.validate(yaml: fresh.yaml) else { return }
        func material(_ r: ValidationReport) -> [String?] {
            let secret = r.one("Secret")
            return [dig(secret?.object, "data", "tls.crt") as? String, dig(secret?.object, "data", "ca.crt") as? String,
                    dig(r.one("ValidatingWebhookConfiguration")?.object, "webhooks", "0", "clientConfig", "caBundle") as? String]
        }
        let (ma, mb, mc) = (material(a), material(b), material(c))
        #expect(ma.allSatisfy { $0 != nil } && ma == mb, "upgrade keeps certificate and caBundle")
        #expect(ma[1] != mc[1], "a fresh install generates a new CA")
        #expect(mb[1] == mb[2])
    }

    /// The chart's default Deployment and the plain manifests run the container the same way.
    @Test func chartAndPlainManifestsAgree() throws {
        guard let r = try HelmRender.render([]), r.status == 0, let chart = try Manifests.validate(yaml: r.yaml),
              let plain = try Manifests.validate(["deploy/base"]) else { return }
        let c1 = dig(chart.one("Deployment")?.object, "spec", "template", "spec", "containers", "0") as? [String: Any] ?? [:]
        let c2 = dig(plain.one("Deployment")?.object, "spec", "template", "spec", "containers", "0") as? [String: Any] ?? [:]
        for key in ["args", "securityContext", "livenessProbe", "readinessProbe", "ports", "lifecycle", "resources"] {
            let same = NSDictionary(dictionary: [key: c1[key] ?? 0]).isEqual(to: [key: c2[key] ?? 1])
            #expect(same, "container \(key) differs between charts/sealgate and deploy/base")
        }
        let rules1 = dig(chart.one("ClusterRole")?.object, "rules") as? [Any] ?? []
        let rules2 = dig(plain.one("ClusterRole")?.object, "rules") as? [Any] ?? []
        #expect(NSArray(array: rules1).isEqual(to: rules2), "ClusterRole rules differ")
        let hooks1 = dig(chart.one("ValidatingWebhookConfiguration")?.object, "webhooks", "0", "rules") as? [Any] ?? []
        let hooks2 = dig(plain.one("ValidatingWebhookConfiguration")?.object, "webhooks", "0", "rules") as? [Any] ?? []
        #expect(NSArray(array: hooks1).isEqual(to: hooks2), "webhook rules differ")
    }

    /// values.yaml keys merge deeply with -f files (Helm semantics), and `tpl` runs on inline policies.
    @Test func valuesMergeAndTpl() throws {
        let file = try HelmRender.valuesFile("""
        image: {tag: "9.9.9"}
        policies:
          inline:
            audit-keyless-github-actions.yaml: null
            release.yaml: |
              # {{ .Release.Name }} in {{ .Release.Namespace }}
              apiVersion: policy.sigstore.dev/v1beta1
              kind: ClusterImagePolicy
              metadata: {name: from-tpl}
              spec:
                images: [{glob: "ghcr.io/example-org/**"}]
                authorities: [{static: {action: pass}}]
        """)
        defer { try? FileManager.default.removeItem(at: file) }
        guard let r = try HelmRender.render([file.path]), r.status == 0, let report = try Manifests.validate(yaml: r.yaml) else { return }
        let image = dig(report.one("Deployment")?.object, "spec", "template", "spec", "containers", "0", "image") as? String
        #expect(image == "ghcr.io/sealgate/sealgate:9.9.9", "tag overridden, repository kept")
        let data = report.one("ConfigMap")?.object["data"] as? [String: String] ?? [:]
        #expect(Array(data.keys) == ["release.yaml"], "null removes a default key")
        #expect(data["release.yaml"]?.contains("# sealgate in sealgate-system") == true)
    }
}

/// The rendered Deployment's container command line, run for real: sealgate starts with exactly those
/// flags, serves the chart-generated certificate from a Secret-style volume, loads the policies from a
/// ConfigMap-style volume, answers the probes over HTTPS for the Service name, and drains on SIGTERM.
@Suite struct RenderedDeploymentRuns {
    @Test func serveWithRenderedArguments() throws {
        guard Deploy.sealgate() != nil, let curl = Deploy.tool("curl", "probes the server over HTTPS"),
              let r = try HelmRender.render([]), r.status == 0, let report = try Manifests.validate(yaml: r.yaml),
              let deployment = report.one("Deployment"), let secret = report.one("Secret"), let cm = report.one("ConfigMap") else { return }
        let pod = dig(deployment.object, "spec", "template", "spec") as? [String: Any] ?? [:]
        let container = dig(pod, "containers", "0") as? [String: Any] ?? [:]
        let mounts = container["volumeMounts"] as? [[String: Any]] ?? []
        func mountPath(_ name: String) -> String { mounts.first { $0["name"] as? String == name }?["mountPath"] as? String ?? "?" }

        // Volumes laid out the way the kubelet does (Secret volumes use the same ..data layout).
        var tlsFiles: [String: String] = [:]
        for (k, v) in dig(secret.object, "data") as? [String: String] ?? [:] {
            tlsFiles[k] = String(decoding: Data(base64Encoded: v) ?? Data(), as: UTF8.self)
        }
        let tlsVolume = try kubeletConfigMapVolume(tlsFiles)
        let policyVolume = try kubeletConfigMapVolume(cm.object["data"] as? [String: String] ?? [:])
        let tmp = try makeTemporaryDirectory("pod-tmp")
        defer { for d in [tlsVolume, policyVolume, tmp] { try? FileManager.default.removeItem(at: d) } }
        let remap = [(mountPath("tls"), tlsVolume.path), (mountPath("policies"), policyVolume.path), ("/tmp", tmp.path)]
        // No API server here: the cluster flags are covered by CLITests/Cluster against a fake apiserver.
        #expect(strings(container["args"]).contains("--watch-policies"))
        let args = strings(container["args"]).filter { !$0.hasPrefix("--address=") && $0 != "--kube" && $0 != "--watch-policies" }.map { arg -> String in
            // Replace one mount prefix at most (the temporary directories themselves live under /tmp).
            guard let (from, to) = remap.first(where: { arg.contains("=\($0.0)/") }) else { return arg }
            return arg.replacingOccurrences(of: "=\(from)/", with: "=\(to)/")
        }
        var env: [String: String] = [:]
        for e in container["env"] as? [[String: Any]] ?? [] {
            if let n = e["name"] as? String, let v = e["value"] as? String { env[n] = v == "/tmp" ? tmp.path : v }
        }
        env["DOCKER_CONFIG"] = tmp.appendingPathComponent("docker").path   // the optional pull secret is absent

        let server = try SealgateServer(arguments: args, environment: env)
        defer { server.stop() }
        let host = "\(deployment.name).\(deployment.namespace ?? "").svc"
        let caFile = tlsVolume.appendingPathComponent("ca.crt").path
        for path in ["/healthz", "/readyz", "/metrics"] {
            let out = try Subprocess.run(curl, ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                                                "--cacert", caFile, "--resolve", "\(host):\(server.port):127.0.0.1",
                                                "https://\(host):\(server.port)\(path)"], timeout: 30)
            #expect(out.stdout == "200", "GET \(path) over TLS with the chart CA: \(out.stdout) \(out.stderr)")
        }
        // SIGTERM drains and exits 0 well inside the pod's termination grace period.
        let grace = pod["terminationGracePeriodSeconds"] as? Int ?? 30
        server.process.signal(SIGTERM)
        let status = server.process.waitForExit(timeout: Double(grace))
        #expect(status == 0, "exit after SIGTERM: \(String(describing: status)) \(server.process.stderr.suffix(1000))")
    }
}
