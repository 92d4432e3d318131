import Dispatch
import Foundation
import ImagePolicy
import ImageReference
import Metrics
import Registry
import SealgateCore

/// The decision engine's one front door: what each image of a request gets under the current policies, decided
/// by a deadline. `serve`, `explain`, `test` and `apply` all decide through it; Admission only turns requests into
/// images and decisions into responses.
///
///     let engine = Engine(store: store, resolver: SourceDigestResolver(source: registry), verifier: cache, settings: settings)
///     let decisions = await engine.decide(images: images, context: context, deadline: .after(seconds: 9.5))
public final class Engine: @unchecked Sendable {
    public let store: PolicyStore
    let resolver: any DigestResolver
    let verifier: any AuthorityVerifier
    public let settings: AdmissionSettings

    public init(store: PolicyStore, resolver: any DigestResolver, verifier: any AuthorityVerifier, settings: AdmissionSettings) {
        self.store = store
        self.resolver = resolver
        self.verifier = verifier
        self.settings = settings
    }

    /// The digest `image` names now: its own when pinned, else the tag resolved through the registry (and its tag
    /// cache). The background scan asks, to notice tags that moved.
    public func currentDigest(of image: String, deadline: Deadline) async throws -> String {
        let ref = try ImageRef.cached(parsing: image)
        if let digest = ref.digest { return digest }
        return try await resolver.digest(of: ref, deadline: deadline)
    }

    /// Each distinct image once, all concurrently. The deadline reaches the resolver as an argument and the
    /// verifier (and its registry calls) as `Deadline.current`; what has not finished by then fails, or warns
    /// with `failOpen`. `credentials` (the request's pull secrets) reach the registry calls as `RequestCredentials.current`.
    nonisolated(nonsending)
    public func decide(images: [ContainerImage], context: AdmissionContext, deadline: Deadline,
                       credentials: RequestCredentials? = nil) async -> [ImageDecision] {
        let policies = store.current
        let evaluator = PolicyEvaluator(policies: policies)
        return await RequestCredentials.$current.withValue(credentials) { await Deadline.$current.withValue(deadline) {
            var requestLevel = ImageValidatingStage.Result()
            if !policies.imageValidatingPolicies.isEmpty {
                let stage = ImageValidatingStage(evaluator: ImageValidatingEvaluator(verifier: verifier), resolver: resolver)
                guard let result = await untilDeadline(deadline, {
                    await stage.run(policies.imageValidatingPolicies, images: images, context: context, deadline: deadline)
                }) else {
                    var seen = Set<String>()
                    return images.filter { seen.insert($0.image).inserted }.map { first in
                        timedOut(first.image, pointers: images.filter { $0.image == first.image }.map(\.pointer), deadline: deadline)
                    }
                }
                requestLevel = result
            }
            // Images only an `images` expression found have no field to patch (pointer ""), but are decided all the same.
            var found: [ContainerImage] = []
            if !requestLevel.verdicts.isEmpty {
                let listed = Set(images.map(\.image))
                found = requestLevel.verdicts.keys.filter { !listed.contains($0) }.sorted().map { ContainerImage(image: $0, pointer: "", list: "images", name: $0) }
            }
            return await evaluateAll(images + found, context: context, evaluator: evaluator, requestLevel: requestLevel, deadline: deadline)
        } }
    }

    /// Each distinct image once, all concurrently; whatever has not finished by the deadline fails. `requestLevel`:
    /// what the ImageValidatingPolicies decided per image (merged into its own verdicts) and the digests they resolved.
    nonisolated(nonsending)
    func evaluateAll(_ images: [ContainerImage], context: AdmissionContext, evaluator: PolicyEvaluator,
                     requestLevel: ImageValidatingStage.Result = .init(), deadline: Deadline) async -> [ImageDecision] {
        // Distinct images in first-seen order with all their pointers: one lookup per container, then arrays.
        var index = [String: Int](minimumCapacity: images.count)
        var distinct: [String] = [], pointerLists: [[String]] = []
        distinct.reserveCapacity(images.count)
        pointerLists.reserveCapacity(images.count)
        for image in images {
            let i: Int
            if let known = index[image.image] { i = known } else {
                i = distinct.count
                index[image.image] = i
                distinct.append(image.image)
                pointerLists.append([])
            }
            if !image.pointer.isEmpty { pointerLists[i].append(image.pointer) }
        }
        let order = distinct, pointers = pointerLists
        // Without ImageValidatingPolicies both tables are empty: nil spares a hash of each image name.
        let levelDecided = requestLevel.verdicts.isEmpty ? nil : requestLevel.verdicts, levelDigests = requestLevel.digests.isEmpty ? nil : requestLevel.digests
        let plans = order.map { ImagePlan($0, context: context, evaluator: evaluator, covered: levelDecided?[$0] != nil) }
        let evaluateOne = { @Sendable (i: Int) async -> ImageDecision in
            let image = order[i]
            return await self.evaluate(image, plans[i], pointers: pointers[i], context: context, evaluator: evaluator,
                                       decided: levelDecided?[image] ?? [], knownDigest: levelDigests?[image], deadline: deadline)
        }
        // Nothing to look up (unmatched images, static policies): decide inline — no tasks, no timer.
        if !plans.contains(where: \.needsIO) {
            var decisions: [ImageDecision] = []
            decisions.reserveCapacity(order.count)
            for i in order.indices { decisions.append(await evaluateOne(i)) }
            return decisions
        }
        let results = ResultCollector()
        // Unstructured tasks: an evaluation stuck past the deadline must not hold up the answer.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let gate = OnceGate(continuation)
            for i in order.indices {
                Task {
                    if results.add(await evaluateOne(i)) == order.count { gate.open() }
                }
            }
            // A Dispatch timer, not Task.sleep: the deadline must fire even if the task pool is busy.
            DispatchQueue.global().asyncAfter(deadline: .now() + max(0, deadline.remaining)) { gate.open() }
        }
        let finished = results.snapshot()
        return order.indices.map { i in
            finished[order[i]] ?? timedOut(order[i], pointers: pointers[i], deadline: deadline)
        }
    }

    /// What deciding about one image takes, worked out once: is the reference valid, does any policy
    /// apply, and do those policies need the digest (and so the registry and the verifier)?
    enum ImagePlan: Sendable {
        case invalid(ImageReferenceError)
        case unmatched
        case matched(ImageRef, needsDigest: Bool)

        /// `covered`: an ImageValidatingPolicy already decided about it (and so needed its digest).
        init(_ image: String, context: AdmissionContext, evaluator: PolicyEvaluator, covered: Bool = false) {
            do {
                let ref = try ImageRef.cached(parsing: image)
                if covered { self = .matched(ref, needsDigest: true); return }
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

    private func timedOut(_ image: String, pointers: [String], deadline: Deadline) -> ImageDecision {
        let detail = "verification did not finish before the admission deadline (registry or signature lookups too slow)"
        var d = ImageDecision(image: image, pointers: pointers, decision: settings.failOpen ? .warn : .fail, digest: nil, pinned: nil,
                              reasons: ["\(detail)\(settings.failOpen ? "; allowed because failure policy is open" : "") — transient, retry"],
                              transient: true)
        d.admissionChecks = [CheckRecord(image: image, policy: "-", authority: "-", check: "deadline", result: "fail", transient: true, detail: detail)]
        return d
    }

    nonisolated(nonsending)
    private func evaluate(_ imageString: String, _ plan: ImagePlan, pointers: [String], context: AdmissionContext, evaluator: PolicyEvaluator,
                          decided: [PolicyVerdict], knownDigest: String?, deadline: Deadline) async -> ImageDecision {
        var decision = ImageDecision(image: imageString, pointers: pointers, decision: .skip, digest: nil, pinned: nil, reasons: [], transient: false)
        let image: ImageRef, needsDigest: Bool
        switch plan {
        case .invalid(let error):
            decision.decision = .fail
            decision.reasons = ["\(error)"]
            decision.admissionChecks = [CheckRecord(image: imageString, policy: "-", authority: "-", check: "reference", result: "fail", transient: false, detail: "\(error)")]
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
            decision.admissionChecks = [CheckRecord(image: imageString, policy: "-", authority: "-", check: "match", result: decision.decision == .fail ? "fail" : "pass",
                                           transient: false, detail: "no policy matches this image (--no-match \(settings.noMatch.rawValue))")]
            return decision
        }
        let digest: String
        if let pinned = image.digest {
            digest = pinned
        } else if let knownDigest {
            digest = knownDigest  // resolved by the ImageValidatingPolicy stage of this request
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
                decision.admissionChecks = [CheckRecord(image: imageString, policy: "-", authority: "-", check: "resolve", result: "fail", transient: transient,
                                               detail: "resolving the tag to a digest failed: \(error)")]
                return decision
            }
        }
        decision.digest = digest.isEmpty ? nil : digest
        let verifyStarted = MonotonicClock.now()
        let verdict = await evaluator.evaluate(image: image, digest: digest, context: context, verifier: verifier, decided: decided)
        Self.verificationTimers[Self.slot(verdict.decision)]
            .recordNanoseconds(Int64((MonotonicClock.now() - verifyStarted) * 1e9))
        for policy in verdict.policies {
            Self.policyVerdicts.counter(policy: policy.policy, decision: policy.decision, transient: policy.transient).increment()
        }
        decision.decision = verdict.decision
        decision.verdicts = verdict.policies
        decision.transient = verdict.policies.contains { $0.transient && $0.decision == .fail }
        if decision.transient && settings.failOpen && decision.decision == .fail { decision.decision = .warn }
        decision.pinned = verdict.pinnedReference
        decision.kyvernoVerified = verdict.policies.contains { $0.rule != nil && $0.decision == .pass }
        decision.reasons = verdict.policies.flatMap { p -> [String] in
            if p.decision == .pass && p.reasons.allSatisfy(\.passed) { return [] }  // nothing to say (most images)
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
        if settings.pinScope == .requireDigest, image.digest == nil, let pinned = verdict.pinnedReference, decision.decision != .fail {
            let detail = "image is referenced by tag but must be pinned to a digest (--pin-scope require-digest): use \(pinned)"
            decision.decision = .fail
            decision.reasons.append(detail)
            decision.admissionChecks.append(CheckRecord(image: imageString, policy: "-", authority: "-", check: "digest", result: "fail", transient: false, detail: detail))
        }
        Self.imageDecisions[Self.slot(decision.decision) * 2 + (decision.transient ? 1 : 0)].increment()
        return decision
    }
}

extension Engine {
    static let verificationTimers = MetricSlots(count: Decision.allCases.count) { slot in
        MetricHandles.shared.timer("sealgate_image_verification_seconds", [("result", Decision.allCases[slot].rawValue)])
    }
    static let imageDecisions = MetricSlots(count: Decision.allCases.count * 2) { slot in
        MetricHandles.shared.counter("sealgate_image_decisions_total", [("decision", Decision.allCases[slot / 2].rawValue), ("transient", String(slot % 2 == 1))])
    }
    static let policyVerdicts = PolicyVerdictCounters()
    static func slot(_ decision: Decision) -> Int { Decision.allCases.firstIndex(of: decision)! }

    /// Every label set of the image families, at 0, so `/metrics` shows them before the first decision (serve).
    public static func registerMetrics() {
        for decision in Decision.allCases {
            _ = MetricHandles.shared.timer("sealgate_image_verification_seconds", [("result", decision.rawValue)])
            for transient in [false, true] {
                _ = MetricHandles.shared.counter("sealgate_image_decisions_total", [("decision", decision.rawValue), ("transient", String(transient))])
            }
        }
    }
}
