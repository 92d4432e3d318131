import Engine
import Foundation
import ImagePolicy
import ImageReference
import Logging
import Metrics
import Registry
import SealgateCore

/// Answers admission requests: extracts the images, hands them to the `Engine` with the request's context and
/// the API server's deadline, and turns the decisions into the response (deny message, warnings, JSON patch),
/// metrics and the audit record.
public final class PolicyDecider: AdmissionDecider, @unchecked Sendable {
    public let engine: Engine
    private var store: PolicyStore { engine.store }
    private var settings: AdmissionSettings { engine.settings }
    private let logger: Logger
    private let audit: AuditLog?

    /// Completes a request's policy context with what the request does not carry: the namespace's labels
    /// (Kyverno `namespaceSelector`: the cluster's in serve, Values files in `sealgate test`), test variables, user.
    /// Async: a lookup that misses its cache waits off the calling thread (the server starts decisions on its event loop).
    public typealias ContextAdjustment = @Sendable (AdmissionRequest, inout AdmissionContext) async -> Void
    private let adjustContext: ContextAdjustment?

    /// The registry credentials a workload's pull secrets give (serve with --kube: read from its namespace).
    public typealias CredentialLookup = @Sendable (WorkloadPullSecrets) -> RequestCredentials?
    private let credentials: CredentialLookup?

    public init(engine: Engine, logger: Logger, audit: AuditLog? = nil, adjustContext: ContextAdjustment? = nil,
                credentials: CredentialLookup? = nil) {
        self.engine = engine
        self.logger = logger
        self.audit = audit
        self.adjustContext = adjustContext
        self.credentials = credentials
    }

    public convenience init(store: PolicyStore, resolver: any DigestResolver, verifier: any AuthorityVerifier, settings: AdmissionSettings,
                            logger: Logger, audit: AuditLog? = nil, adjustContext: ContextAdjustment? = nil) {
        self.init(engine: Engine(store: store, resolver: resolver, verifier: verifier, settings: settings),
                  logger: logger, audit: audit, adjustContext: adjustContext)
    }

    public func decide(_ request: AdmissionRequest, mutating: Bool, timeout: Double) -> AdmissionResponse {
        runBlocking { await self.decideAsync(request, mutating: mutating, timeout: timeout) }
    }

    nonisolated(nonsending)
    public func decideAsync(_ request: AdmissionRequest, mutating: Bool, timeout: Double) async -> AdmissionResponse {
        await explain(request, mutating: mutating, timeout: timeout).response
    }

    /// The decision with everything behind it: per image, per policy, per check (`sealgate explain`).
    nonisolated(nonsending)
    public func explain(_ request: AdmissionRequest, mutating: Bool, timeout: Double) async -> (response: AdmissionResponse, images: [ImageDecision]) {
        let started = MonotonicClock.now()
        let webhook = mutating ? "mutate" : "validate"
        let summary = WorkloadImages.summary(of: request)
        let images = WorkloadImages.imagesToCheck(request, policies: store.current, standard: summary.images)
        // ImageValidatingPolicies with `images` expressions find images in any kind, so such a request is decided.
        let customImages = store.current.imageValidatingPolicies.contains { !$0.images.isEmpty }
        guard !images.isEmpty || customImages else {
            record(webhook: webhook, result: "allowed", started: started)
            return (AdmissionResponse(uid: request.uid, allowed: true), [])
        }
        let status = store.currentStatus
        guard status.loaded else {
            // Never a silent allow: without a valid policy set nothing can be verified.
            record(webhook: webhook, result: mutating ? "allowed" : "denied", started: started)
            if mutating { return (AdmissionResponse(uid: request.uid, allowed: true), []) }
            let why = status.lastError.map { ": \($0)" } ?? ""
            return (AdmissionResponse(uid: request.uid, allowed: false,
                                      status: AdmissionStatus(code: 503, message: "sealgate has no valid policies loaded\(why)", reason: "ServiceUnavailable", status: "Failure")), [])
        }
        var context = Self.context(for: request, summary: summary)
        await adjustContext?(request, &context)
        // One deadline for everything behind this answer, taken from the API server's ?timeout=.
        let deadline = Deadline(uptime: started + max(0.1, timeout - settings.deadlineMargin))
        var pullSecrets: RequestCredentials?
        if let lookup = credentials, let workload = WorkloadPullSecrets(request) {
            // The lookup may read Secrets from the API server: a blocking call, kept off the cooperative pool.
            pullSecrets = await BlockingIO.run { lookup(workload) }
        }
        let decisions = await engine.decide(images: images, context: context, deadline: deadline, credentials: pullSecrets)
        let response = mutating
            ? mutateResponse(request, images: images, decisions: decisions)
            : validateResponse(request, decisions: decisions)
        let anyFailed = decisions.indices.contains { decisions[$0].decision == .fail }
        let result = response.allowed ? (anyFailed ? (settings.mode == .audit ? "audited" : "warned") : "allowed") : "denied"
        record(webhook: webhook, result: result, started: started)
        if !mutating && anyFailed { writeAudit(request, decisions: decisions, allowed: response.allowed) }
        return (response, decisions)
    }

    // MARK: - Responses

    private func validateResponse(_ request: AdmissionRequest, decisions: [ImageDecision]) -> AdmissionResponse {
        // By index: a closure over the elements (filter, map) copied each decision, every field retained.
        var failures: [ImageDecision] = [], warnings: [String] = [], images: [String] = []
        images.reserveCapacity(decisions.count)
        for i in decisions.indices {
            switch decisions[i].decision {
            case .fail: failures.append(decisions[i])
            case .warn: warnings.append(Self.line(decisions[i]))
            default: break
            }
            images.append("\(decisions[i].image)=\(decisions[i].decision.rawValue)")
        }
        var annotations: [String: String] = [:]
        var allowed = true
        var status: AdmissionStatus?
        if !failures.isEmpty {
            let subject = Self.subject(request)
            switch settings.mode {
            case .enforce:
                allowed = false
                let message = "sealgate denied \(subject):\n" + failures.map(Self.line).joined(separator: "\n")
                status = AdmissionStatus(code: 403, message: message, reason: "Forbidden", status: "Failure")
            case .warn:
                warnings += failures.map { "would be denied: " + Self.line($0) }
            case .audit:
                annotations["would-deny"] = failures.map(Self.line).joined(separator: "; ")
            }
        }
        annotations["decision"] = allowed ? (failures.isEmpty ? "allowed" : "allowed (\(settings.mode.rawValue) mode)") : "denied"
        annotations["images"] = images.joined(separator: ",")
        return AdmissionResponse(uid: request.uid, allowed: allowed, status: status,
                                 warnings: warnings.isEmpty ? nil : warnings.map(Self.warningText), auditAnnotations: annotations)
    }

    private func mutateResponse(_ request: AdmissionRequest, images: [ContainerImage], decisions: [ImageDecision]) -> AdmissionResponse {
        var operations: [[String: Any]] = verifyImagesAnnotation(request, decisions: decisions)
        let inScope: Bool
        switch settings.pinScope {
        case .all: inScope = true
        case .pods: inScope = request.kind.kind == "Pod" && request.kind.group.isEmpty
        case .requireDigest: inScope = false
        }
        guard settings.pinning != .none, inScope else { return patchResponse(request, operations) }
        for decision in decisions where decision.decision != .fail {
            guard let pinned = decision.pinned, let digest = decision.digest else { continue }
            let value: String
            switch settings.pinning {
            case .tagDigest: value = pinned
            case .digest:
                value = (try? ImageRef(parsing: decision.image)).map { ref in
                    let base = ref.original.split(separator: "@", maxSplits: 1)[0]
                    // Strip the tag: everything after the last ':' that follows the last '/'.
                    let name = ref.tag.map { tag in String(base.dropLast(tag.count + 1)) } ?? String(base)
                    return "\(name)@\(digest)"
                } ?? pinned
            case .none: continue
            }
            for pointer in decision.pointers {
                operations.append(["op": "replace", "path": pointer, "value": value])
            }
        }
        return patchResponse(request, operations)
    }

    private func patchResponse(_ request: AdmissionRequest, _ operations: [[String: Any]]) -> AdmissionResponse {
        guard !operations.isEmpty else { return AdmissionResponse(uid: request.uid, allowed: true) }
        let sorted = operations.sorted { ($0["path"] as! String) < ($1["path"] as! String) }
        let patch = try? JSONSerialization.data(withJSONObject: sorted, options: [.sortedKeys, .withoutEscapingSlashes])
        return AdmissionResponse(uid: request.uid, allowed: true, patch: patch, patchType: "JSONPatch")
    }

    /// As Kyverno does for Pods: `kyverno.io/verify-images` maps each image verified by a Kyverno rule
    /// (`image@digest`) to "pass". Informational here: sealgate re-checks changed images itself.
    private func verifyImagesAnnotation(_ request: AdmissionRequest, decisions: [ImageDecision]) -> [[String: Any]] {
        guard request.kind.kind == "Pod", request.operation == "CREATE" else { return [] }
        var verified: [String: String] = [:]
        for d in decisions where d.kyvernoVerified && d.decision == .pass {
            guard let digest = d.digest else { continue }
            let base = d.image.split(separator: "@", maxSplits: 1)[0]
            verified["\(base)@\(digest)"] = "pass"
        }
        guard !verified.isEmpty,
              let json = try? JSONSerialization.data(withJSONObject: verified, options: [.sortedKeys, .withoutEscapingSlashes]) else { return [] }
        let value = String(decoding: json, as: UTF8.self)
        if request.lazyObject?.member(at: ["metadata", "annotations"])?.objectValue != nil {
            return [["op": "add", "path": "/metadata/annotations/kyverno.io~1verify-images", "value": value]]
        }
        return [["op": "add", "path": "/metadata/annotations", "value": ["kyverno.io/verify-images": value]]]
    }

    static func line(_ d: ImageDecision) -> String {
        "image \(d.image)\(d.digest.map { " (\($0))" } ?? ""): " + (d.reasons.isEmpty ? d.decision.rawValue : d.reasons.joined(separator: "; "))
    }

    /// The API server rejects warnings over 120 characters... per warning it truncates; keep them printable.
    static func warningText(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }

    // MARK: - Context, metrics, audit

    /// The policy context of a request as admission builds it (the background scan builds the same for running workloads);
    /// `summary`: the object's images and metadata when the caller has read them already.
    public static func context(for request: AdmissionRequest, summary: WorkloadImages.Summary? = nil) -> AdmissionContext {
        let summary = summary ?? WorkloadImages.summary(of: request)
        var context = AdmissionContext(kind: request.kind.kind, group: request.kind.group, version: request.kind.version,
                                       resource: request.resource.resource, namespace: request.namespace,
                                       name: objectName(request, summary: summary),
                                       labels: summary.labels, annotations: summary.annotations,
                                       operation: request.operation)
        context.lazyObject = request.lazyObject
        context.user = request.user
        context.standardImages = Set(summary.images.map(\.image))
        return context
    }

    /// `Kind namespace/name`, as deny messages and `sealgate explain` name the admitted object.
    public static func subject(_ request: AdmissionRequest) -> String {
        "\(request.kind.kind) \(request.namespace.map { "\($0)/" } ?? "")\(objectName(request))"
    }

    static func objectName(_ request: AdmissionRequest, summary: WorkloadImages.Summary? = nil) -> String {
        if let name = request.name { return name }
        let summary = summary ?? WorkloadImages.summary(of: request)
        return summary.name ?? summary.generateName ?? ""
    }

    /// The admission families' label sets for `mode`, at 0, so `/metrics` shows them before the first request (serve).
    public static func registerMetrics(mode: AdmissionSettings.Mode) {
        for webhook in ["validate", "mutate"] {
            _ = MetricHandles.shared.timer("sealgate_admission_duration_seconds", [("webhook", webhook)])
            for result in ["allowed", "denied", "warned", "audited"] {
                _ = MetricHandles.shared.counter("sealgate_admission_decisions_total", [("webhook", webhook), ("result", result), ("mode", mode.rawValue)])
            }
        }
    }

    private static let results = ["allowed", "denied", "warned", "audited"]
    private static let modes = AdmissionSettings.Mode.allCases
    private static let decisionCounters = MetricSlots(count: 2 * results.count * modes.count) { slot in
        MetricHandles.shared.counter("sealgate_admission_decisions_total", [("webhook", slot / (results.count * modes.count) == 0 ? "validate" : "mutate"),
                                                                            ("result", results[slot / modes.count % results.count]),
                                                                            ("mode", modes[slot % modes.count].rawValue)])
    }
    private static let durationTimers = MetricSlots(count: 2) { slot in
        MetricHandles.shared.timer("sealgate_admission_duration_seconds", [("webhook", slot == 0 ? "validate" : "mutate")])
    }

    private func record(webhook: String, result: String, started: Double) {
        let w = webhook == "validate" ? 0 : 1
        if let r = Self.results.firstIndex(of: result), let m = Self.modes.firstIndex(of: settings.mode) {
            Self.decisionCounters[(w * Self.results.count + r) * Self.modes.count + m].increment()
        } else {
            MetricHandles.shared.counter("sealgate_admission_decisions_total", [("webhook", webhook), ("result", result), ("mode", settings.mode.rawValue)]).increment()
        }
        Self.durationTimers[w].recordNanoseconds(Int64((MonotonicClock.now() - started) * 1e9))
    }

    private func writeAudit(_ request: AdmissionRequest, decisions: [ImageDecision], allowed: Bool) {
        let failing = decisions.filter { $0.decision == .fail }
        guard !failing.isEmpty else { return }
        let line = Self.line
        logger.notice(allowed ? "would deny (\(settings.mode.rawValue) mode)" : "denied", metadata: [
            "uid": "\(request.uid)", "kind": "\(request.kind.kind)", "namespace": "\(request.namespace ?? "")",
            "name": "\(Self.objectName(request))", "dryRun": "\(request.dryRun ?? false)",
            "images": "\(failing.map(line).joined(separator: " | "))",
        ])
        audit?.write(AuditRecord(uid: request.uid, kind: request.kind.kind, namespace: request.namespace, name: Self.objectName(request),
                                 operation: request.operation, dryRun: request.dryRun ?? false, mode: settings.mode.rawValue,
                                 allowed: allowed, images: failing.map { AuditRecord.Image(image: $0.image, digest: $0.digest, reasons: $0.reasons, transient: $0.transient,
                                                                                                     checks: $0.checks.filter { $0.result == "fail" }) }))
    }
}
