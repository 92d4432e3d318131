import CEL
import Foundation
import ImageReference

/// The verifications an ImageValidatingPolicy's validations can ask for, run before they are evaluated:
/// per covered image, each attestor's signature check and each attestation × attestor check.
struct ImageValidatingVerifications: Sendable {
    var signatures: [String: [String: AuthorityOutcome]] = [:]
    var attestations: [String: [String: [String: AuthorityOutcome]]] = [:]

    static func run(_ p: ImageValidatingPolicy, images: [String], digests: [String: String], verifier: any AuthorityVerifier,
                    attestations wantAttestations: Bool, signatures wantSignatures: Bool) async -> ImageValidatingVerifications {
        enum Job: Sendable { case signature(String, ImageValidatingPolicy.Attestor), attestation(String, ImageValidatingPolicy.Attestation, ImageValidatingPolicy.Attestor) }
        var jobs: [Job] = []
        for image in images {
            if wantSignatures { jobs += p.attestors.map { .signature(image, $0) } }
            if wantAttestations { for a in p.attestations { jobs += p.attestors.map { .attestation(image, a, $0) } } }
        }
        var out = ImageValidatingVerifications()
        await withTaskGroup(of: (Job, AuthorityOutcome).self) { group in
            for job in jobs {
                group.addTask {
                    let image: String
                    switch job { case .signature(let i, _), .attestation(let i, _, _): image = i }
                    guard let digest = digests[image], let ref = try? ImageRef(parsing: image) else {
                        return (job, AuthorityOutcome(passed: false, reason: "the digest of \(image) could not be resolved", transient: true))
                    }
                    switch job {
                    case .signature(_, let attestor):
                        return (job, await verifier.verifySignature(image: ref, digest: digest, authority: attestor.authority))
                    case .attestation(_, let attestation, let attestor):
                        return (job, await verifier.verifyAttestations(image: ref, digest: digest, authority: attestor.authority,
                                                                       predicateType: attestation.predicateType))
                    }
                }
            }
            for await (job, outcome) in group {
                switch job {
                case .signature(let image, let attestor): out.signatures[image, default: [:]][attestor.name] = outcome
                case .attestation(let image, let a, let attestor): out.attestations[image, default: [:]][a.name, default: [:]][attestor.name] = outcome
                }
            }
        }
        return out
    }
}

/// Kyverno's image functions over precomputed verifications. Attestors are passed as `attestors.NAME` (a map
/// holding its name), attestations as `attestations.NAME` (its name). Which images a verification proved is
/// recorded for `validationConfigurations.required`.
final class ImageValidatingFunctions: @unchecked Sendable {
    let results: ImageValidatingVerifications
    let digests: [String: String]
    let covered: Set<String>
    let attestationNames: Set<String>
    private let lock = NSLock()
    private var proved = Set<String>()

    init(results: ImageValidatingVerifications, digests: [String: String], covered: Set<String>, attestationNames: Set<String>) {
        self.results = results
        self.digests = digests
        self.covered = covered
        self.attestationNames = attestationNames
    }

    var verified: Set<String> { lock.lock(); defer { lock.unlock() }; return proved }

    private func prove(_ image: String) { lock.lock(); proved.insert(image); lock.unlock() }

    /// Same names and arities, for compiling and for `matchConditions`: calling one there is an error.
    static let placeholders: [CELFunction] = [("verifyImageSignatures", 2), ("verifyAttestationSignatures", 3), ("extractPayload", 2), ("getImageData", 1)].map { name, arity in
        CELFunction(name, arity: arity) { _ in throw CELError(.evaluation, "\(name) is only available in validations and variables") }
    }

    var all: [CELFunction] {
        [
            CELFunction("verifyImageSignatures", arity: 2) { [self] call in
                let image = try Self.string(call.args[0], call)
                guard covered.contains(image) else { return .int(0) }  // not selected by matchImageReferences
                let passed = try Self.attestorNames(call.args[1], call).filter { results.signatures[image]?[$0]?.passed == true }
                if !passed.isEmpty { prove(image) }
                return .int(Int64(passed.count))
            },
            CELFunction("verifyAttestationSignatures", arity: 3) { [self] call in
                let image = try Self.string(call.args[0], call), attestation = try Self.string(call.args[1], call)
                guard attestationNames.contains(attestation) else { throw CELError(.evaluation, "attestation not found in policy: \(attestation)") }
                guard covered.contains(image) else { return .int(0) }
                let byAttestor = results.attestations[image]?[attestation] ?? [:]
                let passed = try Self.attestorNames(call.args[2], call).filter { byAttestor[$0]?.passed == true }
                if !passed.isEmpty { prove(image) }
                return .int(Int64(passed.count))
            },
            CELFunction("extractPayload", arity: 2) { [self] call in
                let image = try Self.string(call.args[0], call), attestation = try Self.string(call.args[1], call)
                let verified = (results.attestations[image]?[attestation] ?? [:]).values.first { $0.passed && !$0.statements.isEmpty }
                guard let statement = verified?.statements.first else {
                    throw CELError(.evaluation, "intoto attestation payload cannot be fetched before verifying intoto attestation \(attestation) of \(image)")
                }
                return ImageValidatingVariables.cel(statement["predicate"] ?? .null)
            },
            CELFunction("getImageData", arity: 1) { [self] call in
                let image = try Self.string(call.args[0], call)
                guard let ref = try? ImageRef(parsing: image) else { throw CELError(.evaluation, "invalid image reference \(image)") }
                guard let digest = digests[image] else { throw CELError(.evaluation, "failed to get imagedata: the digest of \(image) could not be resolved") }
                let pairs: [(String, String)] = [("image", image), ("resolvedImage", "\(ref.name)@\(digest)"), ("registry", ref.registry),
                                                 ("repository", ref.repository), ("tag", ref.tag ?? ""), ("digest", digest)]
                return .map(try CELMap(pairs.map { (.string($0.0), .string($0.1)) }))
            },
        ]
    }

    static func string(_ v: CELValue, _ call: CELCall) throws -> String {
        guard case .string(let s) = v else { throw call.noOverload }
        return s
    }

    static func attestorNames(_ v: CELValue, _ call: CELCall) throws -> [String] {
        guard case .list(let items) = v else { throw call.noOverload }
        return try items.map { item in
            guard case .map(let m) = item, case .string(let name)? = m.value(for: .string("name")) else {
                throw CELError(.evaluation, "\(call.function): attestors must be given as attestors.NAME")
            }
            return name
        }
    }
}
