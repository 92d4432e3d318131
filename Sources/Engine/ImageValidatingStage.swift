import Foundation
import ImagePolicy
import ImageReference

/// The request-level step for Kyverno ImageValidatingPolicies, before the per-image pass: which policies apply and
/// which images they cover, those images' digests, then each policy's validations (concurrently). Its verdicts
/// join the other dialects' verdicts of each image, so denials, warnings, pinning and `explain` treat them alike.
struct ImageValidatingStage: Sendable {
    let evaluator: ImageValidatingEvaluator
    let resolver: any DigestResolver

    /// Per image: the verdicts reached for the request, and the digests resolved on the way (not resolved twice).
    struct Result: Sendable {
        var verdicts: [String: [PolicyVerdict]] = [:]
        var digests: [String: String] = [:]
    }

    func run(_ policies: [ImageValidatingPolicy], images: [ContainerImage], context: AdmissionContext, deadline: Deadline) async -> Result {
        var byList: [String: [String]] = [:]
        for image in images where !(byList[image.list]?.contains(image.image) ?? false) { byList[image.list, default: []].append(image.image) }
        var verdicts: [String: [PolicyVerdict]] = [:]
        var work: [(ImageValidatingPolicy, [String], [String: [String]])] = []
        for p in policies {
            switch evaluator.scope(p, context: context, images: byList) {
            case .notApplicable: continue
            case .images(let covered, let variable): work.append((p, covered, variable))
            case .error(let why):
                guard p.failurePolicy == .fail else { continue }
                for image in Set(images.map(\.image)) { verdicts[image, default: []].append(ImageValidatingVerdicts.scopeError(p, why)) }
            }
        }
        guard !work.isEmpty else { return Result(verdicts: verdicts) }
        let digests = await resolve(Set(work.flatMap(\.1)), deadline: deadline)
        let outcomes = await withTaskGroup(of: (Int, ImageValidatingEvaluator.Outcome).self) { group in
            for (i, item) in work.enumerated() {
                group.addTask { (i, await evaluator.evaluate(item.0, covered: item.1, imagesVariable: item.2, context: context, digests: digests)) }
            }
            var all: [(Int, ImageValidatingEvaluator.Outcome)] = []
            for await r in group { all.append(r) }
            return all.sorted { $0.0 < $1.0 }.map(\.1)
        }
        // validationConfigurations.required: an image a passing policy covers must have been proved by some policy's
        // signature or attestation check in this request, or it is not verified at all.
        let proved = outcomes.reduce(into: Set<String>()) { $0.formUnion($1.verifiedImages) }
        for (item, outcome) in zip(work, outcomes) {
            for (image, var verdict) in outcome.verdicts {
                if item.0.required, !proved.contains(image) { ImageValidatingVerdicts.requireVerified(&verdict, image: image) }
                verdicts[image, default: []].append(verdict)
            }
        }
        return Result(verdicts: verdicts, digests: digests)
    }

    /// Digests of the covered images (those written with one keep it); an image that cannot be resolved is left
    /// out, so its verifications fail with that reason.
    private func resolve(_ images: Set<String>, deadline: Deadline) async -> [String: String] {
        await withTaskGroup(of: (String, String?).self) { group in
            for image in images {
                group.addTask {
                    guard let ref = try? ImageRef.cached(parsing: image) else { return (image, nil) }
                    if let digest = ref.digest { return (image, digest) }
                    return (image, try? await resolver.digest(of: ref, deadline: deadline))
                }
            }
            var out: [String: String] = [:]
            for await (image, digest) in group { if let digest { out[image] = digest } }
            return out
        }
    }
}
