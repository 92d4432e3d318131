import CEL
import Foundation
import ImageReference

/// Evaluates ImageValidatingPolicies the way Kyverno's CEL engine does, in two steps:
///
/// 1. `scope`: does the policy apply (match constraints, CEL `matchConditions`) and which images does it cover
///    (`images` expressions, `matchImageReferences`); the engine then resolves their digests.
/// 2. `evaluate`: the verifications the validations can call are run first, concurrently and through the
///    (caching) `AuthorityVerifier` port — one signature check per image × attestor and, when the policy calls
///    the attestation functions, one per image × attestation × attestor — then every validation is evaluated
///    with `verifyImageSignatures`, `verifyAttestationSignatures`, `extractPayload` and `getImageData` answering
///    from those results. Expressions run under the CEL cost limit, so a runaway policy fails, it does not stall.
public struct ImageValidatingEvaluator: Sendable {
    public let verifier: any AuthorityVerifier
    public var options = CELOptions()

    public init(verifier: any AuthorityVerifier) { self.verifier = verifier }

    public enum Scope: Sendable {
        case notApplicable
        /// A match condition or image expression failed to evaluate: `failurePolicy` decides.
        case error(String)
        /// The images the policy covers, and the `images` variable its validations see.
        case images(covered: [String], variable: [String: [String]])
    }

    /// The result of one policy: a verdict per covered image, and the images a verification function proved.
    public struct Outcome: Sendable {
        public var verdicts: [String: PolicyVerdict]
        public var verifiedImages: Set<String>
    }

    /// Why `source` does not compile, or nil.
    static func compileError(_ source: String) -> String? {
        var o = CELOptions()
        o.functions = ImageValidatingFunctions.placeholders
        do { _ = try CELProgram(compiling: source, o); return nil } catch { return "\(error)" }
    }

    public func scope(_ p: ImageValidatingPolicy, context: AdmissionContext, images byList: [String: [String]]) -> Scope {
        guard ImageValidatingMatcher.applies(p, context) else { return .notApplicable }
        let base = ImageValidatingVariables.base(context)
        for condition in p.matchConditions {
            do {
                guard case .bool(let yes) = try run(condition.expression, base) else {
                    return .error("matchConditions[\(condition.name)]: must evaluate to bool")
                }
                if !yes { return .notApplicable }
            } catch {
                return .error("matchConditions[\(condition.name)]: \(error)")
            }
        }
        var variable = byList
        for e in p.images {
            do {
                guard case .list(let items) = try run(e.expression, base) else { return .error("images[\(e.name)]: must evaluate to a list of strings") }
                variable[e.name] = try items.map { item in
                    guard case .string(let s) = item else { throw CELError(.evaluation, "must evaluate to a list of strings") }
                    return s
                }
            } catch {
                return .error("images[\(e.name)]: \(error)")
            }
        }
        var covered: [String] = []
        for image in variable.sorted(by: { $0.key < $1.key }).flatMap(\.value) where !covered.contains(image) {
            do { if try matchesReferences(p, image) { covered.append(image) } } catch {
                return .error("matchImageReferences: \(image): \(error)")
            }
        }
        return covered.isEmpty ? .notApplicable : .images(covered: covered, variable: variable)
    }

    /// `matchImageReferences`: any glob (Kyverno wildcard) or CEL expression over `ref` that matches; none: every image.
    func matchesReferences(_ p: ImageValidatingPolicy, _ image: String) throws -> Bool {
        for m in p.matchImageReferences {
            switch m {
            case .glob(let g):
                if Wildcard.match(pattern: g, image) { return true }
            case .expression(let e):
                guard case .bool(let yes) = try run(e, ["ref": .string(image)]) else {
                    throw CELError(.evaluation, "matchImageReferences expression must evaluate to bool")
                }
                if yes { return true }
            }
        }
        return p.matchImageReferences.isEmpty
    }

    /// Compiled once per expression and limits (a policy's expressions run on every admission it matches).
    func run(_ source: String, _ variables: [String: CELValue], functions: [CELFunction] = ImageValidatingFunctions.placeholders) throws -> CELValue {
        try CompiledExpressions.shared.program(source, options).evaluate(variables, adding: functions)
    }

    /// Runs the verifications, then the validations, for the covered images (`digests` by image; an image without
    /// one could not be resolved and fails its verifications).
    public func evaluate(_ p: ImageValidatingPolicy, covered: [String], imagesVariable: [String: [String]], context: AdmissionContext,
                         digests: [String: String]) async -> Outcome {
        let sources = p.validations.map(\.expression) + p.variables.map(\.expression)
        let results = await ImageValidatingVerifications.run(p, images: covered, digests: digests, verifier: verifier,
                                                             attestations: sources.contains { $0.contains("verifyAttestationSignatures") || $0.contains("extractPayload") },
                                                             signatures: sources.contains { $0.contains("verifyImageSignatures") })
        let functions = ImageValidatingFunctions(results: results, digests: digests, covered: Set(covered), attestationNames: Set(p.attestations.map(\.name)))
        var variables = ImageValidatingVariables.base(context)
        variables["images"] = .map(ImageValidatingVariables.stringLists(imagesVariable))
        variables["attestors"] = ImageValidatingVariables.names(p.attestors.map(\.name), asAttestors: true)
        variables["attestations"] = ImageValidatingVariables.names(p.attestations.map(\.name), asAttestors: false)
        var failures: [String] = []
        var errors: [String] = []
        var declared: [(CELValue, CELValue)] = []
        for v in p.variables {
            variables["variables"] = .map((try? CELMap(declared)) ?? CELMap())
            do { declared.append((.string(v.name), try run(v.expression, variables, functions: functions.all))) } catch {
                errors.append("variables[\(v.name)]: \(error)")
            }
        }
        variables["variables"] = .map((try? CELMap(declared)) ?? CELMap())
        if errors.isEmpty {
            for (i, v) in p.validations.enumerated() {
                do {
                    guard case .bool(let ok) = try run(v.expression, variables, functions: functions.all) else {
                        errors.append("validations[\(i)]: must evaluate to bool"); continue
                    }
                    if !ok { failures.append(message(v, variables, functions)) }
                } catch {
                    errors.append("validations[\(i)]: \(error)")
                }
            }
        }
        if p.verifyDigest {
            for image in covered where !image.contains("@") { failures.append("image \(image) does not have a digest") }
        }
        return ImageValidatingVerdicts.make(p, covered: covered, failures: failures, errors: errors, results: results,
                                            verified: functions.verified)
    }

    func message(_ v: ImageValidatingPolicy.Validation, _ variables: [String: CELValue], _ functions: ImageValidatingFunctions) -> String {
        if let e = v.messageExpression, case .string(let text)? = try? run(e, variables, functions: functions.all), !text.isEmpty { return text }
        if let m = v.message, !m.isEmpty { return m }
        return "failed expression: \(v.expression)"
    }
}

/// CEL programs by source text and limits, bounded (emptied when full: expressions come from loaded policies).
final class CompiledExpressions: @unchecked Sendable {
    static let shared = CompiledExpressions()
    static let capacity = 4096
    private let lock = NSLock()
    private var programs: [String: CELProgram] = [:]

    func program(_ source: String, _ options: CELOptions) throws -> CELProgram {
        let o = options
        // Embedder functions and types cannot be compared: such programs are compiled each time.
        guard o.functions.isEmpty, o.types.isEmpty else { return try CELProgram(compiling: source, options) }
        let key = "\(o.maxSourceSize),\(o.maxDepth),\(o.maxNodes),\(o.costLimit),\(o.maxStringSize),\(o.maxListSize),\(o.container)\u{0}\(source)"
        lock.lock()
        let known = programs[key]
        lock.unlock()
        if let known { return known }
        let compiled = try CELProgram(compiling: source, options)
        lock.lock()
        if programs.count >= Self.capacity { programs.removeAll(keepingCapacity: true) }
        programs[key] = compiled
        lock.unlock()
        return compiled
    }
}
