import Admission
import ArgumentParser
import Foundation
import PolicyTesting

/// `sealgate apply`: policies over resources (files, stdin, or a `kubectl get -A -o json` dump), with the
/// result per resource, policy rule and image; PolicyReports for audit runs over what already runs.
struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Evaluate policies over resources and print per resource, rule and image results, or PolicyReports.",
        discussion: """
        Resources: --resource FILE (repeatable; - for stdin), -f FILE, or --cluster-json FILE (kubectl get pods -A -o json). \
        Files may be manifests (multi-document YAML), Lists or AdmissionReviews. Namespace objects among them give \
        their labels to Kyverno namespaceSelector (as kyverno apply --cluster reads them), overridden by --values-file.
        -o policyreport prints wgpolicyk8s.io/v1alpha2 PolicyReports (one per namespace) and a ClusterPolicyReport \
        for cluster-scoped resources. -o html prints one self-contained HTML page: counts, by namespace and by policy, \
        a sortable table of findings and the check tree of every image that would be denied.
        Exit status: 0 when nothing would be denied (always with --audit), 1 when something would be, 2 on usage or input errors.
        """)

    @OptionGroup var engine: EngineOptions

    @Option(name: .customLong("resource"), help: "Resource file (repeatable); - reads stdin.")
    var resources: [String] = []

    @Option(name: [.customShort("f"), .customLong("file")], help: "Resource file; - reads stdin.")
    var files: [String] = []

    @Option(help: "kubectl get ... -A -o json output (a List) to audit.")
    var clusterJSON: String?

    @Option(help: "kyverno CLI Values file (cli.kyverno.io/v1alpha1 Values): namespaceSelector labels, globalValues, per-policy resource values.")
    var valuesFile: String?

    @Option(name: [.customShort("u"), .customLong("userinfo")], help: "kyverno CLI UserInfo file: the requesting user for match/exclude subjects.")
    var userinfo: String?

    @Flag(help: "Audit: report, never fail (exit 0 even when something would be denied).")
    var audit = false

    @Flag(help: "Report failures of Audit (and warn-mode) policies as warn rather than fail.")
    var auditWarn = false

    @Option(name: [.customShort("o"), .customLong("output")], help: "table, json, yaml, policyreport or html.")
    var output = "table"

    @Flag(help: "No progress line on stderr (shown only when stderr is a terminal).")
    var quiet = false

    func validate() throws {
        guard ["table", "json", "yaml", "policyreport", "html"].contains(output) else {
            throw ValidationError("--output must be table, json, yaml, policyreport or html")
        }
    }

    func run() throws {
        try usageErrors("apply") { try apply() }
    }

    private func apply() throws {
        let inputs = resources + files + (clusterJSON.map { [$0] } ?? [])
        guard !inputs.isEmpty else { throw ValidationError("no resources: pass --resource FILE, -f FILE (- for stdin) or --cluster-json FILE") }
        guard inputs.filter({ $0 == "-" }).count <= 1 else { throw ValidationError("stdin (-) can be read only once") }
        var requests: [AdmissionRequest] = []
        for input in inputs { requests += try readResources(input) }
        let setting: RequestSetting
        do {
            setting = RequestSetting(values: try valuesFile.map(KyvernoValues.load), user: try userinfo.map(KyvernoUserInfo.load),
                                     clusterNamespaces: RequestSetting.namespaces(in: requests))
        } catch { throw ValidationError("\(error)") }
        requests = requests.map(setting.prepare)
        // --audit changes only the exit status: "would be denied" still reflects --mode.
        let decider = try engine.verification.makeDecider(policyPaths: try engine.policyPaths(), settings: try engine.settings(),
                                                          adjustContext: setting.adjust)
        let progress = ProgressLine(total: requests.count, noun: "resources", quiet: quiet)
        let evaluated = evaluate(requests, decider: decider, timeout: engine.registry.timeout, patch: false, auditWarn: auditWarn, progress: progress)
        progress.clear()
        let outcomes = evaluated.flatMap(\.outcomes)
        switch output {
        case "json": print(try Render.json(try Render.foundation(outcomes)))
        case "yaml": print(try Render.yaml([try Render.foundation(outcomes)]), terminator: "")
        case "policyreport": print(try Render.yaml(PolicyReports.build(outcomes)), terminator: "")
        case "html":
            let resources = evaluated.map { e in
                HTMLReport.Resource(resource: e.resource, subject: PolicyDecider.subject(e.request), allowed: e.allowed, images: e.images, outcomes: e.outcomes)
            }
            print(HTMLReport(resources: resources, mode: engine.mode.rawValue).render())
        default: print(Self.table(evaluated))
        }
        let denied = evaluated.filter { !$0.allowed }
        if !denied.isEmpty && !audit {
            FileHandle.standardError.write(Data("sealgate apply: \(denied.count) resource(s) would be denied: \(denied.map(\.resource.description).joined(separator: ", "))\n".utf8))
            throw ExitCode(1)
        }
    }

    static func table(_ evaluated: [EvaluatedResource]) -> String {
        var rows: [[String]] = []
        for e in evaluated {
            if e.outcomes.isEmpty { rows.append([e.resource.description, "-", "-", "skip", "no policy applies to its images"]) }
            for o in e.outcomes {
                let policy = o.policyKind == "-" ? "(admission)" : "\(o.policyKind)/\(o.policy)"
                rows.append([e.resource.description, policy, o.rule.isEmpty ? "-" : o.rule, o.result.rawValue, o.message])
            }
        }
        let pass = evaluated.flatMap(\.outcomes).filter { $0.result == .pass }.count
        let fail = evaluated.flatMap(\.outcomes).filter { $0.result == .fail }.count
        return Table.render(["RESOURCE", "POLICY", "RULE", "RESULT", "IMAGES"], rows)
            + "\n\(evaluated.count) resource(s): \(pass) rule result(s) pass, \(fail) fail; \(evaluated.filter { !$0.allowed }.count) resource(s) would be denied"
    }
}
