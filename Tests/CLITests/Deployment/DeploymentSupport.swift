import Foundation
import Testing
import TestSupport

/// Paths and tools shared by the deployment tests.
enum Deploy {
    static let root = TestPaths.packageRoot
    static let fixtures = TestPaths.fixtures.appendingPathComponent("deploy")
    static let validator = fixtures.appendingPathComponent("validate_manifests.py").path
    static let chart = root.appendingPathComponent("charts/sealgate").path

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    static func read(_ relative: String) throws -> String {
        try String(contentsOfFile: path(relative), encoding: .utf8)
    }

    /// Absolute path of a tool, or records an Issue (a missing tool fails the test, never passes it).
    static func tool(_ name: String, _ why: String, sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        if let p = Subprocess.which(name) { return p }
        Issue.record("\(name) is not installed: \(why)", sourceLocation: sourceLocation)
        return nil
    }

    /// The built sealgate binary, or an Issue.
    static func sealgate(sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        let p = TestPaths.sealgateBinary.path
        if FileManager.default.isExecutableFile(atPath: p) { return p }
        Issue.record("sealgate binary not found at \(p): build first (swift build)", sourceLocation: sourceLocation)
        return nil
    }
}

/// One document from validate_manifests.py.
struct ManifestDocument {
    var source: String
    var object: [String: Any]
    var status: String
    var reason: String

    var kind: String { object["kind"] as? String ?? "" }
    var apiVersion: String { object["apiVersion"] as? String ?? "" }
    var name: String { (object["metadata"] as? [String: Any])?["name"] as? String ?? "" }
    var namespace: String? { (object["metadata"] as? [String: Any])?["namespace"] as? String }
    var annotations: [String: String] { (object["metadata"] as? [String: Any])?["annotations"] as? [String: String] ?? [:] }
}

struct ValidationReport {
    var exitStatus: Int32
    var versions: [String]
    var documents: [ManifestDocument]
    var stderr: String

    var invalid: [ManifestDocument] { documents.filter { $0.status != "valid" && $0.status != "skipped" } }
    func all(_ kind: String) -> [ManifestDocument] { documents.filter { $0.kind == kind } }
    func one(_ kind: String, sourceLocation: SourceLocation = #_sourceLocation) -> ManifestDocument? {
        let found = all(kind)
        if found.count != 1 { Issue.record("expected exactly one \(kind), found \(found.count)", sourceLocation: sourceLocation) }
        return found.first
    }
}

enum Manifests {
    /// Runs validate_manifests.py over paths (or YAML text on stdin) and decodes its report.
    static func validate(_ paths: [String] = [], yaml: String? = nil, versions: String = "1.28,latest",
                         sourceLocation: SourceLocation = #_sourceLocation) throws -> ValidationReport? {
        guard let python = Deploy.tool("python3", "needed to parse and validate manifests", sourceLocation: sourceLocation) else { return nil }
        let args = [Deploy.validator, "--versions", versions] + (yaml == nil ? paths : ["-"])
        let out = try Subprocess.run(python, args, stdin: yaml.map { Data($0.utf8) }, directory: Deploy.root.path, timeout: 300)
        guard let json = try? JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any] else {
            Issue.record("validator printed no JSON (exit \(out.status)): \(out.stderr.suffix(2000))", sourceLocation: sourceLocation)
            return nil
        }
        if let error = json["error"] as? String {
            Issue.record("validator cannot run: \(error) — pip install -r Tests/Fixtures/deploy/requirements.txt", sourceLocation: sourceLocation)
            return nil
        }
        let docs = (json["documents"] as? [[String: Any]] ?? []).map {
            ManifestDocument(source: $0["source"] as? String ?? "", object: $0["object"] as? [String: Any] ?? [:],
                             status: $0["status"] as? String ?? "", reason: $0["reason"] as? String ?? "")
        }
        return ValidationReport(exitStatus: out.status, versions: json["versions"] as? [String] ?? [], documents: docs, stderr: out.stderr)
    }

    /// Records an Issue per invalid document and checks that every skip is one of the allowed, explained kinds.
    static func expectValid(_ report: ValidationReport, sourceLocation: SourceLocation = #_sourceLocation) {
        for doc in report.invalid {
            Issue.record("\(doc.source): \(doc.kind) \(doc.name): \(doc.status): \(doc.reason)", sourceLocation: sourceLocation)
        }
        #expect(report.exitStatus == 0, "validator exit status", sourceLocation: sourceLocation)
        for doc in report.documents where doc.status == "skipped" {
            let allowed = doc.reason.hasPrefix("custom resource:") || doc.reason.hasPrefix("kustomize build input")
            #expect(allowed, "\(doc.kind) skipped without an accepted reason: \(doc.reason)", sourceLocation: sourceLocation)
        }
        #expect(report.documents.contains { $0.status == "valid" }, "nothing was schema-validated", sourceLocation: sourceLocation)
    }
}

/// Small helpers to walk decoded JSON.
func dig(_ value: Any?, _ keys: String...) -> Any? {
    var cur = value
    for k in keys {
        if let i = Int(k), let arr = cur as? [Any] { cur = i < arr.count ? arr[i] : nil; continue }
        cur = (cur as? [String: Any])?[k]
    }
    return cur
}

func strings(_ value: Any?) -> [String] { value as? [String] ?? [] }

/// Lays out files like the kubelet does for a ConfigMap volume
/// (`..<timestamp>/key`, `..data -> ..<timestamp>`, `key -> ..data/key`) and returns the mount root.
func kubeletConfigMapVolume(_ files: [String: String]) throws -> URL {
    let mount = try makeTemporaryDirectory("configmap-volume")
    let stamp = "..2026_01_01_00_00_00.000000001"
    let dataDir = mount.appendingPathComponent(stamp)
    try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true)
    for (key, content) in files {
        try content.write(to: dataDir.appendingPathComponent(key), atomically: true, encoding: .utf8)
    }
    try FileManager.default.createSymbolicLink(atPath: mount.appendingPathComponent("..data").path, withDestinationPath: stamp)
    for key in files.keys {
        try FileManager.default.createSymbolicLink(atPath: mount.appendingPathComponent(key).path, withDestinationPath: "..data/\(key)")
    }
    return mount
}

/// Result of `sealgate lint`: exit status and the number of valid policies from its summary line.
struct LintResult {
    var status: Int32
    var validPolicies: Int?
    var output: String
}

func lint(_ sealgate: String, _ paths: [String]) throws -> LintResult {
    let out = try Subprocess.run(sealgate, ["lint"] + paths, timeout: 60)
    // Summary line: "N valid policies, E error(s), W warning(s)"
    let summary = out.stdout.split(separator: "\n").last { $0.contains("valid polic") }
    let count = summary.flatMap { Int($0.split(separator: " ").first ?? "") }
    return LintResult(status: out.status, validPolicies: count, output: out.stdout + out.stderr)
}

/// Long options accepted by `sealgate serve` (from its --help), e.g. "--tls-cert".
func serveFlags(_ sealgate: String) throws -> Set<String> {
    let out = try Subprocess.run(sealgate, ["serve", "--help"], timeout: 30)
    #expect(out.status == 0, "sealgate serve --help failed: \(out.stderr)")
    let text = out.stdout + out.stderr
    let regex = try NSRegularExpression(pattern: "--[a-z][a-z0-9-]*")
    let ns = text as NSString
    return Set(regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range) })
}

/// Checks a webhook-serving Deployment: hardening, probes, ports, and that every flag exists in `sealgate serve`.
func expectHardenedDeployment(_ deployment: ManifestDocument, flags: Set<String>, sourceLocation: SourceLocation = #_sourceLocation) {
    let pod = dig(deployment.object, "spec", "template", "spec") as? [String: Any] ?? [:]
    let containers = pod["containers"] as? [[String: Any]] ?? []
    #expect(containers.count == 1, sourceLocation: sourceLocation)
    guard let c = containers.first else { return }
    #expect(dig(pod, "securityContext", "runAsNonRoot") as? Bool == true, sourceLocation: sourceLocation)
    #expect(dig(pod, "securityContext", "seccompProfile", "type") as? String == "RuntimeDefault", sourceLocation: sourceLocation)
    #expect(dig(c, "securityContext", "allowPrivilegeEscalation") as? Bool == false, sourceLocation: sourceLocation)
    #expect(dig(c, "securityContext", "readOnlyRootFilesystem") as? Bool == true, sourceLocation: sourceLocation)
    #expect(strings(dig(c, "securityContext", "capabilities", "drop")) == ["ALL"], sourceLocation: sourceLocation)
    #expect(dig(c, "resources", "requests") != nil && dig(c, "resources", "limits", "memory") != nil, "resources", sourceLocation: sourceLocation)

    // Probes: HTTPS on the container's 8443 port.
    let ports = c["ports"] as? [[String: Any]] ?? []
    #expect(ports.contains { $0["containerPort"] as? Int == 8443 && $0["name"] as? String == "https" }, sourceLocation: sourceLocation)
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        #expect(dig(c, probe, "httpGet", "path") as? String == path, "\(probe) path", sourceLocation: sourceLocation)
        #expect(dig(c, probe, "httpGet", "scheme") as? String == "HTTPS", "\(probe) scheme", sourceLocation: sourceLocation)
        let port = dig(c, probe, "httpGet", "port")
        #expect((port as? Int) == 8443 || (port as? String) == "https", "\(probe) port", sourceLocation: sourceLocation)
    }

    // The grace period covers the preStop pause plus sealgate's drain time.
    let drain = args(c).first { $0.hasPrefix("--drain-timeout=") }.flatMap { Int($0.dropFirst("--drain-timeout=".count)) } ?? 25
    let preStop = strings(dig(c, "lifecycle", "preStop", "exec", "command")).last.flatMap { Int($0) } ?? 0
    let grace = pod["terminationGracePeriodSeconds"] as? Int ?? 30
    #expect(grace > drain + preStop, "terminationGracePeriodSeconds \(grace) <= preStop \(preStop) + drain \(drain)", sourceLocation: sourceLocation)

    // /tmp is the only writable place: an emptyDir.
    let mounts = c["volumeMounts"] as? [[String: Any]] ?? []
    let volumes = pod["volumes"] as? [[String: Any]] ?? []
    let tmp = mounts.first { $0["mountPath"] as? String == "/tmp" }
    #expect(tmp != nil, "/tmp mount", sourceLocation: sourceLocation)
    #expect(volumes.contains { $0["name"] as? String == tmp?["name"] as? String && $0["emptyDir"] != nil }, "/tmp is an emptyDir", sourceLocation: sourceLocation)

    // Every argument is a real `sealgate serve` flag, and the files it names are mounted.
    let args = strings(c["args"])
    for arg in args where arg.hasPrefix("--") {
        let flag = String(arg.split(separator: "=", maxSplits: 1)[0])
        #expect(flags.contains(flag), "\(flag) is not an option of `sealgate serve`", sourceLocation: sourceLocation)
    }
    #expect(args.contains("--address=0.0.0.0:8443"), sourceLocation: sourceLocation)
    for flag in ["--tls-cert=", "--tls-key=", "--policy="] {
        guard let arg = args.first(where: { $0.hasPrefix(flag) }) else {
            Issue.record("missing \(flag)", sourceLocation: sourceLocation); continue
        }
        let file = String(arg.dropFirst(flag.count))
        #expect(mounts.contains { file.hasPrefix(($0["mountPath"] as? String ?? "?") + "/") }, "\(file) is on no volume mount", sourceLocation: sourceLocation)
    }
}

private func args(_ container: [String: Any]) -> [String] { strings(container["args"]) }

/// Checks one webhook configuration object (Validating or Mutating).
func expectWebhookConfiguration(_ config: ManifestDocument, service: ManifestDocument, path: String,
                                failurePolicy: String = "Fail", timeout: Int = 10,
                                sourceLocation: SourceLocation = #_sourceLocation) {
    let hooks = config.object["webhooks"] as? [[String: Any]] ?? []
    #expect(hooks.count == 1, sourceLocation: sourceLocation)
    for hook in hooks {
        #expect(hook["sideEffects"] as? String == "None", sourceLocation: sourceLocation)
        #expect(strings(hook["admissionReviewVersions"]) == ["v1", "v1beta1"], sourceLocation: sourceLocation)
        #expect(hook["timeoutSeconds"] as? Int == timeout, sourceLocation: sourceLocation)
        #expect(hook["failurePolicy"] as? String == failurePolicy, sourceLocation: sourceLocation)
        #expect(dig(hook, "clientConfig", "service", "name") as? String == service.name, sourceLocation: sourceLocation)
        #expect(dig(hook, "clientConfig", "service", "namespace") as? String == service.namespace, sourceLocation: sourceLocation)
        #expect(dig(hook, "clientConfig", "service", "path") as? String == path, sourceLocation: sourceLocation)
        let port = dig(hook, "clientConfig", "service", "port") as? Int
        let servicePorts = (dig(service.object, "spec", "ports") as? [[String: Any]] ?? []).compactMap { $0["port"] as? Int }
        #expect(port == 443 && servicePorts.contains(443), "webhook calls Service port 443", sourceLocation: sourceLocation)

        // Resources covered: pods, ephemeral containers and the workload controllers.
        var covered = Set<String>()
        for rule in hook["rules"] as? [[String: Any]] ?? [] {
            #expect(Set(strings(rule["operations"])).isSuperset(of: ["CREATE", "UPDATE"]), sourceLocation: sourceLocation)
            for g in strings(rule["apiGroups"]) { for r in strings(rule["resources"]) { covered.insert(g.isEmpty ? r : "\(g)/\(r)") } }
        }
        let wanted = ["pods", "pods/ephemeralcontainers", "apps/deployments", "apps/replicasets", "apps/statefulsets",
                      "apps/daemonsets", "batch/jobs", "batch/cronjobs"]
        for w in wanted { #expect(covered.contains(w), "rules do not cover \(w)", sourceLocation: sourceLocation) }
    }
}

/// The excluded namespaces and opt-in requirement of a webhook's namespaceSelector.
func expectNamespaceSelector(_ hook: [String: Any], excludes: [String], optIn: (String, String)?,
                             sourceLocation: SourceLocation = #_sourceLocation) {
    let exprs = dig(hook, "namespaceSelector", "matchExpressions") as? [[String: Any]] ?? []
    let notIn = exprs.first { $0["key"] as? String == "kubernetes.io/metadata.name" && $0["operator"] as? String == "NotIn" }
    let excluded = strings(notIn?["values"])
    for ns in excludes {
        #expect(excluded.contains(ns), "namespaceSelector does not exclude \(ns)", sourceLocation: sourceLocation)
    }
    if let (key, value) = optIn {
        let viaExpr = exprs.contains { $0["key"] as? String == key && $0["operator"] as? String == "In" && strings($0["values"]) == [value] }
        let viaLabels = (dig(hook, "namespaceSelector", "matchLabels") as? [String: String])?[key] == value
        #expect(viaExpr || viaLabels, "namespaceSelector does not require \(key)=\(value)", sourceLocation: sourceLocation)
    }
}
