import Admission
import ArgumentParser
import Foundation
import ImagePolicy
import PolicyTesting

/// `sealgate explain`: the webhook's decision for a manifest or AdmissionReview, with every check behind it.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show the full decision tree for manifests or AdmissionReviews: per resource, image, policy and check.",
        discussion: """
        FILE is YAML or JSON: a manifest (multi-document allowed), a List (kubectl get -o json), or an AdmissionReview; - reads stdin.
        Exit status: 0 when everything would be admitted, 1 when something would be denied, 2 on usage or input errors.
        """)

    @Argument(help: "Manifest or AdmissionReview file, or - for stdin.")
    var file: String

    @OptionGroup var engine: EngineOptions

    @Option(name: [.customShort("o"), .customLong("output")],
            help: "text, json, review (the AdmissionReview response serve sends for each input: /validate; /mutate with --mutate), or html (one self-contained report page).")
    var output = "text"

    @Flag(help: "Also show the mutating webhook's patch (with -o review: answer as /mutate).")
    var mutate = false

    func validate() throws {
        guard ["text", "json", "review", "html"].contains(output) else { throw ValidationError("--output must be text, json, review or html") }
    }

    func run() throws {
        try usageErrors("explain") { try explain() }
    }

    private func explain() throws {
        let text: String
        if file == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            text = String(decoding: data, as: UTF8.self)
        }
        let requests: [AdmissionRequest]
        do { requests = try ResourceRequests.parse(text, source: file == "-" ? "stdin" : file) } catch { throw ValidationError("\(error)") }
        let decider = try engine.makeDecider()
        let timeout = engine.registry.timeout, mutate = self.mutate
        if output == "review" { return try reviews(requests, decider: decider, timeout: timeout) }
        let results = runBlocking {
            var out: [Explained] = []
            for request in requests {
                let validated = await decider.explain(request, mutating: false, timeout: timeout)
                let patch = mutate ? await decider.decideAsync(request, mutating: true, timeout: timeout).patch : nil
                out.append(Explained(request: request, response: validated.response, images: validated.images, patch: patch))
            }
            return out
        }
        if output == "json" {
            print(try Self.json(results, mode: engine.mode.rawValue))
        } else if output == "html" {
            let resources = results.map { r in
                let id = ResourceID(object: r.request.object)
                return HTMLReport.Resource(resource: id, subject: r.subject, allowed: r.response.allowed, images: r.images,
                                           outcomes: RuleOutcomes.outcomes(resource: id, images: r.images))
            }
            print(HTMLReport(resources: resources, mode: engine.mode.rawValue).render())
        } else {
            for r in results { print(Self.tree(r, mode: engine.mode.rawValue)) }
        }
        if results.contains(where: { !$0.response.allowed }) { throw ExitCode(1) }
    }

    struct Explained: Sendable {
        var request: AdmissionRequest
        var response: AdmissionResponse
        var images: [ImageDecision]
        var patch: Data?

        var subject: String { PolicyDecider.subject(request) }
    }

    static func tree(_ r: Explained, mode: String) -> String {
        let verdict = r.response.allowed
            ? (r.images.contains { $0.decision == .fail } ? "ADMITTED (\(mode) mode; would be denied in enforce mode)" : "ADMITTED")
            : "DENIED"
        var lines = ["\(r.subject): \(verdict)"]
        if r.images.isEmpty { lines.append("  (no images to check)") }
        for image in r.images { lines += imageTree(image).map { "  " + $0 } }
        if let message = r.response.status?.message, !r.response.allowed {
            lines.append("  message: " + message.replacingOccurrences(of: "\n", with: "\n    "))
        }
        for warning in r.response.warnings ?? [] { lines.append("  warning: \(warning)") }
        if let patch = r.patch { lines.append("  patch: \(String(decoding: patch, as: UTF8.self))") }
        return lines.joined(separator: "\n")
    }

    /// One image: its digest and decision, then per policy each check with ✔/✘ (the HTML report shows the same).
    static func imageTree(_ image: ImageDecision) -> [String] {
        let digest = image.digest.map { " @ \($0)" } ?? ""
        var lines = ["image \(image.image)\(digest): \(image.decision.rawValue)\(image.transient ? " (transient)" : "")"]
        var lastPolicy: String?
        for check in image.checks {
            let policy = check.policy == "-" ? "admission" : check.policy + (check.rule.map { " rule \($0)" } ?? "")
            if policy != lastPolicy {
                lines.append("  \(policy)")
                lastPolicy = policy
            }
            let mark = check.result == "pass" ? "✔" : "✘"
            let location = check.authority == "-" ? "" : "\(check.authority) "
            let step = check.step.map { "failed at \($0): " } ?? ""
            lines.append("    \(mark) \(location)[\(check.check)] \(step)\(check.detail)\(check.transient ? " — transient, retry" : "")")
        }
        if let pinned = image.pinned { lines.append("  → pinned as \(pinned)") }
        return lines
    }

    /// Each request as an AdmissionReview through serve's own endpoint code: the answer serve would give, byte for byte.
    private func reviews(_ requests: [AdmissionRequest], decider: PolicyDecider, timeout: Double) throws {
        let endpoint = AdmissionEndpoint(decider: decider)
        let encoder = JSONEncoder()
        var denied = false
        for request in requests {
            let body = try encoder.encode(AdmissionReview(apiVersion: "admission.k8s.io/v1", request: request, response: nil))
            let reply = endpoint.handle(method: "POST", contentType: "application/json", query: "timeout=\(Int(timeout))s",
                                        body: Array(body), mutating: mutate)
            print(String(decoding: reply.body, as: UTF8.self))
            let answer = try? JSONDecoder().decode(AdmissionReview.self, from: Data(reply.body))
            if answer?.response?.allowed != true { denied = true }
        }
        if denied { throw ExitCode(1) }
    }

    static func json(_ results: [Explained], mode: String) throws -> String {
        struct Image: Encodable {
            var image: String, digest: String?, decision: String, transient: Bool, pinned: String?, checks: [CheckRecord]
        }
        struct Resource: Encodable {
            var resource: String, allowed: Bool, mode: String, message: String?, warnings: [String]?, images: [Image], patch: String?
        }
        let resources = results.map { r in
            Resource(resource: r.subject, allowed: r.response.allowed, mode: mode, message: r.response.status?.message,
                     warnings: r.response.warnings,
                     images: r.images.map { Image(image: $0.image, digest: $0.digest, decision: $0.decision.rawValue, transient: $0.transient,
                                                  pinned: $0.pinned, checks: $0.checks) },
                     patch: r.patch.map { String(decoding: $0, as: UTF8.self) })
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(resources), as: UTF8.self)
    }
}
