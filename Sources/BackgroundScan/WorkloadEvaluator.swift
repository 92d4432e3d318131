import Admission
import Engine
import Foundation
import Registry
import ImageReference
import ImagePolicy
import PolicyTesting
import SealgateCore

/// One running workload through the admission engine, as `sealgate apply` evaluates a resource: its images as a
/// CREATE request would carry them, the same policy context (namespace labels included), rule outcomes per policy.
public struct WorkloadEvaluator: Sendable {
    public struct Evaluation: Sendable {
        public var outcomes: [RuleOutcome]
        /// Distinct images the workload runs.
        public var images: Set<String>
        /// Some result is transient (registry trouble, deadline): worth a retry after backing off.
        public var transient: Bool { !transientImages.isEmpty }
        /// The images whose results are transient (all of them when a result not tied to one image is).
        public var transientImages: Set<String>
        /// Tagged images and the digest each was decided on: a tag that moves later is re-evaluated.
        public var digests: [String: String] = [:]
    }

    let engine: Engine
    let adjustContext: PolicyDecider.ContextAdjustment?
    let timeout: Double
    let auditWarn: Bool
    /// The registry credentials of a workload's pull secrets, as admission reads them (serve with --kube).
    let credentials: PolicyDecider.CredentialLookup?

    public init(engine: Engine, adjustContext: PolicyDecider.ContextAdjustment?, credentials: PolicyDecider.CredentialLookup? = nil,
                timeout: Double = 30, auditWarn: Bool = false) {
        self.engine = engine
        self.adjustContext = adjustContext
        self.credentials = credentials
        self.timeout = timeout
        self.auditWarn = auditWarn
    }

    /// Distinct images of `object` under the current policies (Kyverno image extractors included).
    public func images(of object: JSONValue) -> Set<String> {
        guard let request = try? ResourceRequests.request(for: object) else { return [] }
        return Set(WorkloadImages.imagesToCheck(request, policies: engine.store.current).map(\.image))
    }

    /// The registries `images` are pulled from (an unparsable reference counts as its own "registry").
    public static func registries(of images: Set<String>) -> Set<String> {
        Set(images.map { (try? ImageRef.cached(parsing: $0))?.registry ?? $0 })
    }

    /// The digest `image`'s tag names now (through the tag cache, so at most one registry request per tag TTL).
    public func currentDigest(of image: String) async throws -> String {
        try await engine.currentDigest(of: image, deadline: Deadline.after(seconds: timeout))
    }

    /// Throws when the object is not a resource (no kind or apiVersion); the message names it.
    public func evaluate(_ object: JSONValue, key: WorkloadKey) async throws -> Evaluation {
        let request: AdmissionRequest
        do { request = try ResourceRequests.request(for: object, at: key.description) } catch {
            throw ScanError("cannot evaluate \(key): \(error)")
        }
        let images = WorkloadImages.imagesToCheck(request, policies: engine.store.current)
        let id = ResourceID(object: object)
        guard !images.isEmpty else { return Evaluation(outcomes: [], images: [], transientImages: []) }
        var context = PolicyDecider.context(for: request)
        await adjustContext?(request, &context)
        let deadline = Deadline.after(seconds: max(0.1, timeout - engine.settings.deadlineMargin))
        var pullSecrets: RequestCredentials?
        if let credentials, let workload = WorkloadPullSecrets(request) {
            pullSecrets = await BlockingIO.run { credentials(workload) }  // may read Secrets from the API server
        }
        let decisions = await engine.decide(images: images, context: context, deadline: deadline, credentials: pullSecrets)
        let outcomes = RuleOutcomes.outcomes(resource: id, images: decisions, auditWarn: auditWarn)
        let all = Set(images.map(\.image))
        let transient = outcomes.contains { $0.isTransient } && !decisions.contains { $0.transient }
            ? all : Set(decisions.filter(\.transient).map(\.image))
        var digests: [String: String] = [:]
        for decision in decisions where !decision.image.contains("@") {
            if let digest = decision.digest { digests[decision.image] = digest }
        }
        return Evaluation(outcomes: outcomes, images: all, transientImages: transient, digests: digests)
    }
}

/// A background-scan failure that says what and where.
public struct ScanError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
