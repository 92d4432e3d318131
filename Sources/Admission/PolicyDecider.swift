import Foundation
import ImagePolicy
import ImageReference
import Logging
import Metrics

/// Resolves a tag to the digest it names now (the registry's job; a protocol so tests and
/// offline replays can supply their own).
public protocol DigestResolver: Sendable {
    func digest(of image: ImageRef, deadline: Double) async throws -> String
}

/// Errors that may clear up on retry (registry down, timeout, 429) say so.
public protocol TransientError: Error {
    var isTransient: Bool { get }
}

public struct AdmissionSettings: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        /// Deny what fails.
        case enforce
        /// Allow, and tell the client (kubectl shows warnings).
        case warn
        /// Allow silently; record what would have been denied (log, metrics, audit file).
        case audit
    }

    /// What happens to an image no policy covers.
    public enum NoMatch: String, Sendable, CaseIterable { case allow, warn, deny }

    /// How verified images are pinned by the mutating webhook.
    public enum Pinning: String, Sendable, CaseIterable {
        /// `repo:tag@sha256:…` (the tag stays readable).
        case tagDigest = "tag-digest"
        /// `repo@sha256:…`.
        case digest
        /// Never patch (validate only).
        case none
    }

    /// Which workloads /mutate pins.
    public enum PinScope: String, Sendable, CaseIterable {
        /// Every matched workload (policy-controller's behaviour).
        case all
        /// Pods only: controllers stay as written, so GitOps tools see no drift; their Pods are still pinned.
        case pods
        /// Never patch; /validate denies matched images referenced by tag (use the digest it names).
        case requireDigest = "require-digest"
    }

    public var mode = Mode.enforce
    public var noMatch = NoMatch.allow
    public var pinning = Pinning.tagDigest
    public var pinScope = PinScope.all
    /// When verification cannot finish (timeout, registry unreachable): false denies (fail closed).
    public var failOpen = false
    /// Answer this long before the API server's timeout.
    public var deadlineMargin = 0.5

    public init() {}
}

/// What was decided for one image of a request.
public struct ImageDecision: Sendable {
    public var image: String
    public var pointers: [String]
    public var decision: Decision
    public var digest: String?
    public var pinned: String?
    public var reasons: [String]
    public var transient: Bool
    /// A Kyverno rule verified this image (recorded in the `kyverno.io/verify-images` annotation).
    public var kyvernoVerified = false
    /// Every check behind the decision, one record per policy check (structured reasons).
    public var checks: [CheckRecord] = []
    /// The per-policy/rule verdicts behind `decision` (policy test and report tools map them to rule results).
    public var verdicts: [PolicyVerdict] = []
}

/// One check of one policy for one image, as logs, audit records and `sealgate explain` report it.
public struct CheckRecord: Sendable, Codable, Equatable {
    public var image: String
    public var policy: String
    /// Kyverno rule (nil for ClusterImagePolicy).
    public var rule: String?
    /// Where in the policy: `authorities[0] (name)`, `rule: attestors[0]`, `spec.policy`, ...
    public var authority: String
    /// signature, attestation, condition, static, digest, skip, summary, or resolve/match for admission-level checks.
    public var check: String
    /// pass or fail.
    public var result: String
    public var transient: Bool
    public var detail: String
    /// The verification step that rejected (`tlog`, `certificate`, `identity`, ...; see `VerificationStep`).
    public var step: String?

    public init(image: String, policy: String, rule: String? = nil, authority: String, check: String, result: String,
                transient: Bool, detail: String, step: String? = nil) {
        self.step = step
        self.image = image
        self.policy = policy
        self.rule = rule
        self.authority = authority
        self.check = check
        self.result = result
        self.transient = transient
        self.detail = detail
    }
}

/// Decides admission requests with the policy engine: extracts images, resolves digests,
/// evaluates every image concurrently within the API server's deadline, builds the answer.
public final class PolicyDecider: AdmissionDecider, @unchecked Sendable {
    private let store: PolicyStore
    private let resolver: DigestResolver
    private let verifier: any AuthorityVerifier
    private let settings: AdmissionSettings
    private let logger: Logger
    private let audit: AuditLog?

    /// Completes a request's policy context with what the request does not carry: the namespace's labels
    /// (Kyverno `namespaceSelector`: the cluster's in serve, Values files in `sealgate test`), test variables, user.
    public typealias ContextAdjustment = @Sendable (AdmissionRequest, inout AdmissionContext) -> Void
    private let adjustContext: ContextAdjustment?

    public init(store: PolicyStore, resolver: DigestResolver, verifier: any AuthorityVerifier, settings: AdmissionSettings,
                logger: Logger, audit: AuditLog? = nil, adjustContext: ContextAdjustment? = nil) {
        self.adjustContext = adjustContext
        self.store = store
        self.resolver = resolver
        self.verifier = verifier
        self.settings = settings
        self.logger = logger
        self.audit = audit
    }

    public func decide(_ request: AdmissionRequest, mutating: Bool, timeout: Double) -> AdmissionResponse {
        runBlocking { await self.decideAsync(request, mutating: mutating, timeout: timeout) }
    }

    public func decideAsync(_ request: AdmissionRequest, mutating: Bool, timeout: Double) async -> AdmissionResponse {
        await explain(request, mutating: mutating, timeout: timeout).response
    }

    /// The decision with everything behind it: per image, per policy, per check (`sealgate explain`).
    public func explain(_ request: AdmissionRequest, mutating: Bool, timeout: Double) async -> (response: AdmissionResponse, images: [ImageDecision]) {
        let started = Self.now()
        let webhook = mutating ? "mutate" : "validate"
        let images = WorkloadImages.imagesToCheck(request, policies: store.current)
        guard !images.isEmpty else {
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
        var context = Self.context(for: request)
        adjustContext?(request, &context)
        let evaluator = PolicyEvaluator(policies: store.current)
        let deadline = started + max(0.1, timeout - settings.deadlineMargin)
        let decisions = await evaluateAll(images, context: context, evaluator: evaluator, deadline: deadline)
        let response = mutating
            ? mutateResponse(request, images: images, decisions: decisions)
            : validateResponse(request, decisions: decisions)
        let result = response.allowed ? (decisions.contains { $0.decision == .fail } ? (settings.mode == .audit ? "audited" : "warned") : "allowed") : "denied"
        record(webhook: webhook, result: result, started: started)
        if !mutating { writeAudit(request, decisions: decisions, allowed: response.allowed) }
        return (response, decisions)
    }

    // MARK: - Evaluation

    /// Each distinct image once, all concurrently; whatever has not finished by the deadline fails.
    func evaluateAll(_ images: [ContainerImage], context: AdmissionContext, evaluator: PolicyEvaluator, deadline: Double) async -> [ImageDecision] {
        var pointerMap: [String: [String]] = [:]
        var distinct: [String] = []
        for image in images {
            if pointerMap[image.image] == nil { distinct.append(image.image) }
            pointerMap[image.image, default: []].append(image.pointer)
        }
        let pointers = pointerMap, order = distinct
        var planned: [String: ImagePlan] = [:]
        for image in order { planned[image] = ImagePlan(image, context: context, evaluator: evaluator) }
        let plans = planned
        // Nothing to look up (unmatched images, static policies): decide inline — no tasks, no timer.
        if !plans.values.contains(where: \.needsIO) {
            var decisions: [ImageDecision] = []
            for image in order {
                decisions.append(await evaluate(image, plans[image]!, pointers: pointers[image]!, context: context, evaluator: evaluator, deadline: deadline))
            }
            return decisions
        }
        let results = ResultCollector()
        // Unstructured tasks: an evaluation stuck past the deadline must not hold up the answer.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let gate = OnceGate(continuation)
            for image in order {
                Task {
                    let decision = await self.evaluate(image, plans[image]!, pointers: pointers[image]!, context: context, evaluator: evaluator,
                                                       deadline: deadline)
                    if results.add(decision) == order.count { gate.open() }
                }
            }
            // A Dispatch timer, not Task.sleep: the deadline must fire even if the task pool is busy.
            DispatchQueue.global().asyncAfter(deadline: .now() + max(0, deadline - Self.now())) { gate.open() }
        }
        let finished = results.snapshot()
        return order.map { image in
            finished[image] ?? timedOut(image, pointers: pointers[image]!, deadline: deadline)
        }
    }

    /// What deciding about one image takes, worked out once: is the reference valid, does any policy
    /// apply, and do those policies need the digest (and so the registry and the verifier)?
    enum ImagePlan: Sendable {
        case invalid(ImageReferenceError)
        case unmatched
        case matched(ImageRef, needsDigest: Bool)

        init(_ image: String, context: AdmissionContext, evaluator: PolicyEvaluator) {
            do {
                let ref = try ImageRef(parsing: image)
                self = evaluator.applies(image: ref, context: context)
                    ? .matched(ref, needsDigest: evaluator.needsDigest(image: ref, context: context)) : .unmatched
            } catch {
                self = .invalid(error)
            }
        }

        var needsIO: Bool {
            if case .matched(_, true) = self { return true }
            return false
        }
    }

    private func timedOut(_ image: String, pointers: [String], deadline: Double) -> ImageDecision {
        let detail = "verification did not finish before the admission deadline (registry or signature lookups too slow)"
        var d = ImageDecision(image: image, pointers: pointers, decision: settings.failOpen ? .warn : .fail, digest: nil, pinned: nil,
                              reasons: ["\(detail)\(settings.failOpen ? "; allowed because failure policy is open" : "") — transient, retry"],
                              transient: true)
        d.checks = [CheckRecord(image: image, policy: "-", authority: "-", check: "deadline", result: "fail", transient: true, detail: detail)]
        return d
    }

    private func evaluate(_ imageString: String, _ plan: ImagePlan, pointers: [String], context: AdmissionContext, evaluator: PolicyEvaluator,
                          deadline: Double) async -> ImageDecision {
        var decision = ImageDecision(image: imageString, pointers: pointers, decision: .skip, digest: nil, pinned: nil, reasons: [], transient: false)
        let image: ImageRef, needsDigest: Bool
        switch plan {
        case .invalid(let error):
            decision.decision = .fail
            decision.reasons = ["\(error)"]
            decision.checks = [CheckRecord(image: imageString, policy: "-", authority: "-", check: "reference", result: "fail", transient: false, detail: "\(error)")]
            return decision
        case .matched(let ref, let needs):
            image = ref
            needsDigest = needs
        case .unmatched:
            switch settings.noMatch {
            case .allow: decision.decision = .skip
            case .warn:
                decision.decision = .warn
                decision.reasons = ["no policy matches this image"]
            case .deny:
                decision.decision = .fail
                decision.reasons = ["no policy matches this image and unmatched images are denied (--no-match deny)"]
            }
            decision.checks = [CheckRecord(image: imageString, policy: "-", authority: "-", check: "match", result: decision.decision == .fail ? "fail" : "pass",
                                           transient: false, detail: "no policy matches this image (--no-match \(settings.noMatch.rawValue))")]
            return decision
        }
        let digest: String
        if let pinned = image.digest {
            digest = pinned
        } else if !needsDigest {
            digest = ""  // static authorities only: no registry call at all
        } else {
            do {
                digest = try await resolver.digest(of: image, deadline: deadline)
            } catch {
                let transient = (error as? TransientError)?.isTransient ?? false
                decision.transient = transient
                decision.decision = transient && settings.failOpen ? .warn : .fail
                decision.reasons = ["resolving the tag to a digest failed: \(error)\(transient ? " — transient, retry" : "")"]
                decision.checks = [CheckRecord(image: imageString, policy: "-", authority: "-", check: "resolve", result: "fail", transient: transient,
                                               detail: "resolving the tag to a digest failed: \(error)")]
                return decision
            }
        }
        decision.digest = digest.isEmpty ? nil : digest
        let verifyStarted = Self.now()
        let verdict = await evaluator.evaluate(image: image, digest: digest, context: context, verifier: verifier)
        Metrics.Timer(label: "sealgate_image_verification_seconds", dimensions: [("result", verdict.decision.rawValue)])
            .recordNanoseconds(Int64((Self.now() - verifyStarted) * 1e9))
        for policy in verdict.policies {
            Counter(label: "sealgate_policy_verdicts_total", dimensions: [("policy", policy.policy), ("decision", policy.decision.rawValue),
                                                                          ("transient", String(policy.transient))]).increment()
        }
        decision.decision = verdict.decision
        decision.verdicts = verdict.policies
        decision.transient = verdict.policies.contains { $0.transient && $0.decision == .fail }
        if decision.transient && settings.failOpen && decision.decision == .fail { decision.decision = .warn }
        decision.pinned = verdict.pinnedReference
        decision.kyvernoVerified = verdict.policies.contains { $0.rule != nil && $0.decision == .pass }
        decision.reasons = verdict.policies.flatMap { p in
            // One readable line per image: a policy's summary ("no authority passed") only when it is all there is.
            let failing = p.reasons.filter { !$0.passed || p.decision != .pass }
            let specific = failing.filter { $0.kind != .summary || $0.check != "authorities" }
            return (specific.isEmpty ? failing : specific).map { r in
                "\(r.policy): \(r.check): \(r.stepLabel)\(r.detail)\(p.transient && !r.passed ? " — transient, retry" : "")"
            }
        }
        if decision.decision == .fail && decision.reasons.isEmpty {
            decision.reasons = verdict.policies.filter { $0.decision == .fail }.map { "\($0.policy): failed" }
        }
        decision.checks = verdict.policies.flatMap { p in
            p.reasons.map { r in
                CheckRecord(image: imageString, policy: r.policy, rule: p.rule, authority: r.check, check: r.kind.rawValue,
                            result: r.passed ? "pass" : "fail", transient: r.transient, detail: r.detail, step: r.step?.rawValue)
            }
        }
        if settings.pinScope == .requireDigest, image.digest == nil, let pinned = verdict.pinnedReference, decision.decision != .fail {
            let detail = "image is referenced by tag but must be pinned to a digest (--pin-scope require-digest): use \(pinned)"
            decision.decision = .fail
            decision.reasons.append(detail)
            decision.checks.append(CheckRecord(image: imageString, policy: "-", authority: "-", check: "digest", result: "fail", transient: false, detail: detail))
        }
        Counter(label: "sealgate_image_decisions_total", dimensions: [("decision", decision.decision.rawValue), ("transient", String(decision.transient))]).increment()
        return decision
    }

    // MARK: - Responses

    private func validateResponse(_ request: AdmissionRequest, decisions: [ImageDecision]) -> AdmissionResponse {
        let failures = decisions.filter { $0.decision == .fail }
        var warnings = decisions.filter { $0.decision == .warn }.map(Self.line)
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
        annotations["images"] = decisions.map { "\($0.image)=\($0.decision.rawValue)" }.joined(separator: ",")
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
        if request.object?["metadata"]?["annotations"]?.objectValue != nil {
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

    static func context(for request: AdmissionRequest) -> AdmissionContext {
        let metadata = request.object?["metadata"]
        func strings(_ value: JSONValue?) -> [String: String] {
            (value?.objectValue ?? [:]).compactMapValues(\.stringValue)
        }
        var context = AdmissionContext(kind: request.kind.kind, group: request.kind.group, version: request.kind.version,
                                       resource: request.resource.resource, namespace: request.namespace, name: objectName(request),
                                       labels: strings(metadata?["labels"]), annotations: strings(metadata?["annotations"]),
                                       operation: request.operation, object: request.object)
        context.user = RequestUser(json: request.userInfo)
        context.standardImages = Set(WorkloadImages.images(in: request.object, kind: request.kind.kind).map(\.image))
        return context
    }

    /// `Kind namespace/name`, as deny messages and `sealgate explain` name the admitted object.
    public static func subject(_ request: AdmissionRequest) -> String {
        "\(request.kind.kind) \(request.namespace.map { "\($0)/" } ?? "")\(objectName(request))"
    }

    static func objectName(_ request: AdmissionRequest) -> String {
        request.name ?? request.object?["metadata"]?["name"]?.stringValue ?? request.object?["metadata"]?["generateName"]?.stringValue ?? ""
    }

    private func record(webhook: String, result: String, started: Double) {
        Counter(label: "sealgate_admission_decisions_total", dimensions: [("webhook", webhook), ("result", result), ("mode", settings.mode.rawValue)]).increment()
        Metrics.Timer(label: "sealgate_admission_duration_seconds", dimensions: [("webhook", webhook)])
            .recordNanoseconds(Int64((Self.now() - started) * 1e9))
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

    static func now() -> Double { MonotonicClock.now() }
}

/// Runs async work from synchronous code (server worker threads, CLI commands) and waits for it. It starts on
/// the calling thread: work that never suspends (static policies, unmatched images, cache hits answered without
/// I/O) completes inside Task creation, with no thread hop and no semaphore wake-up.
public func runBlocking<T: Sendable>(_ work: @escaping @Sendable () async -> T) -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task(executorPreference: InlineExecutor.shared) {
        box.value = await work()
        done.signal()
    }
    done.wait()
    return box.value!
}

/// Runs each job at once on the thread that enqueues it: the worker thread at first, later whichever thread
/// resumes the task (a registry call finishing on a Dispatch thread).
final class InlineExecutor: TaskExecutor {
    static let shared = InlineExecutor()

    func enqueue(_ job: consuming ExecutorJob) {
        job.runSynchronously(on: asUnownedTaskExecutor())
    }
}

private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}

private final class ResultCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [String: ImageDecision] = [:]
    /// Returns how many results there are now.
    func add(_ d: ImageDecision) -> Int { lock.lock(); defer { lock.unlock() }; results[d.image] = d; return results.count }
    var count: Int { lock.lock(); defer { lock.unlock() }; return results.count }
    func snapshot() -> [String: ImageDecision] { lock.lock(); defer { lock.unlock() }; return results }
}

/// Resumes a continuation exactly once, whoever gets there first.
private final class OnceGate: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Void, Never>?
    init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = continuation }
    func open() {
        lock.lock()
        let c = continuation
        continuation = nil
        lock.unlock()
        c?.resume()
    }
}
