import Foundation
import ImageReference
import Registry
import SealgateCore
import SigstoreVerify

/// cosign-compatible verification of an image's signatures and attestations in a registry.
///
/// Looks in the cosign tag scheme (`sha256-<hex>.sig` / `.att` in the image's repository or the signature
/// repository) and in OCI referrers (Sigstore bundles v0.3, `application/vnd.dev.sigstore.bundle.v0.3+json`).
/// Every signature found is checked and reported; the image passes if any one verifies.
/// Blocking (registry calls are bounded by `deadline`); call from a thread that may block.
public struct CosignVerifier: Sendable {
    /// The registry, or an offline image layout (`OCILayout`).
    public let registry: any ImageSource
    /// Maximum size of a signature/attestation layer or bundle.
    public var maxLayerBytes = 16 << 20
    /// At most this many signatures/attestations are checked per source (tag scheme, referrers); more are
    /// reported as skipped (bounds the work an attacker-controlled attachment can cause).
    public var maxSignatures = 64

    public static let bundleMediaType = MediaType.sigstoreBundleV03
    /// Predicate type of cosign's own "signature" statements in DSSE bundles.
    public static let cosignSignPredicate = "https://sigstore.dev/cosign/sign/v1"

    public init(registry: RegistryClient) { self.registry = registry }
    public init(source: any ImageSource) { self.registry = source }

    /// `application/vnd.dev.sigstore.bundle.v0.3+json` and the `…bundle+json;version=0.x` spellings.
    public static func isBundleMediaType(_ type: String) -> Bool {
        type.hasPrefix("application/vnd.dev.sigstore.bundle.v0.") || type.hasPrefix("application/vnd.dev.sigstore.bundle+json")
    }

    /// Verifies that `image@digest` carries a signature satisfying `options`.
    public func verifySignatures(image: ImageRef, digest: String, options: CosignCheckOptions, deadline: Deadline) -> ImageVerificationResult {
        var result = ImageVerificationResult(image: image, digest: digest)
        let (reg, repo) = location(image, options)
        // 1. cosign tag scheme.
        if options.signatureFormat != .bundle {
            checkTagLayers(.signature, mediaType: CosignSimpleSigningPayload.mediaType, what: "a cosign simple-signing payload", into: &result,
                           registry: reg, repository: repo, digest: digest, deadline: deadline) { layer, payload, check in
                check.payload = payload
                check.record(try CosignLayerVerifier.verifySignature(payload: payload, annotations: layer.annotations ?? [:], digest: digest, options: options))
            }
        }
        if result.passed || options.signatureFormat == .legacy { return result }
        // 2. Sigstore bundles attached as referrers.
        verifyReferrers(into: &result, registry: reg, repository: repo, digest: digest, options: options, deadline: deadline, predicateType: nil)
        return result
    }

    /// Verifies attestations of `predicateType` (a URI; see `PredicateType.resolve`) on `image@digest`.
    /// All attestations of that type are checked; `verified` holds those that passed, with their statements.
    public func verifyAttestations(image: ImageRef, digest: String, predicateType: String, options: CosignCheckOptions,
                                   deadline: Deadline) -> ImageVerificationResult {
        let (reg, repo) = location(image, options)
        let empty = ImageVerificationResult(image: image, digest: digest, predicateType: predicateType)
        // Both places are always read, so they are read at once: one round-trip wave instead of two.
        let (tagged, referred) = Self.concurrently({ () -> ImageVerificationResult in
            var result = empty
            guard options.signatureFormat != .bundle else { return result }
            checkTagLayers(.attestation, mediaType: MediaType.dsseEnvelope, what: "a DSSE envelope", into: &result,
                           registry: reg, repository: repo, digest: digest, deadline: deadline) { layer, envelope, check in
                check.envelopeJSON = envelope
                check.record(try CosignLayerVerifier.verifyAttestation(envelopeJSON: envelope, annotations: layer.annotations ?? [:], digest: digest, options: options))
                try check.requirePredicate(predicateType)
            }
            return result
        }, { () -> ImageVerificationResult in
            var result = empty
            guard options.signatureFormat != .legacy else { return result }
            verifyReferrers(into: &result, registry: reg, repository: repo, digest: digest, options: options, deadline: deadline, predicateType: predicateType)
            return result
        })
        var result = tagged
        result.checks += referred.checks
        if let error = referred.lookupError { result.lookupError = result.lookupError.map { "\($0); \(error)" } ?? error }
        result.lookupTransient = result.lookupTransient || referred.lookupTransient
        return result
    }

    /// Runs `a` on a new thread and `b` on this one, and returns both results (the registry client blocks its caller).
    static func concurrently<A: Sendable, B>(_ a: @escaping @Sendable () -> A, _ b: () -> B) -> (A, B) {
        let box = OnceBox<A>()
        let done = DispatchSemaphore(value: 0)
        // The request's pull secrets follow onto the new thread (task-locals do not).
        BlockingIO.start(RequestCredentials.carried { box.value = a(); done.signal() })
        let second = b()
        done.wait()
        return (box.value!, second)
    }

    /// Checks every layer (up to `maxSignatures`) of the cosign tag-scheme attachment `kind` of `digest`: the layer must
    /// be of `mediaType`; `verify` checks its bytes. One `SignatureCheck` per layer; lookup failures go to `result`.
    private func checkTagLayers(_ kind: RegistryClient.Attachment, mediaType: String, what: String, into result: inout ImageVerificationResult,
                                registry reg: String, repository repo: String, digest: String, deadline: Deadline,
                                _ verify: (Descriptor, Data, inout SignatureCheck) throws -> Void) {
        do {
            let tag = RegistryClient.cosignTag(for: digest, kind)
            guard let manifest = try registry.cosignAttachment(kind, registry: reg, repository: repo, digest: digest, deadline: deadline) else { return }
            for (i, layer) in manifest.layers.prefix(maxSignatures).enumerated() {
                var check = SignatureCheck(source: .tag(tag, layer: i), passed: false, reason: "")
                do {
                    guard layer.mediaType == mediaType else { throw ImageCheckFailure("layer media type \(layer.mediaType) is not \(what)") }
                    let bytes = Data(try registry.blob(registry: reg, repository: repo, digest: layer.digest, maxBytes: maxLayerBytes, deadline: deadline))
                    try verify(layer, bytes, &check)
                } catch {
                    check.fail(error)
                }
                result.checks.append(check)
            }
        } catch {
            result.recordLookup(error)
        }
    }

    // MARK: - Referrers (Sigstore bundles)

    private func verifyReferrers(into result: inout ImageVerificationResult, registry reg: String, repository repo: String, digest: String,
                                 options: CosignCheckOptions, deadline: Deadline, predicateType: String?) {
        let referrers: [Manifest]
        do {
            referrers = try registry.referrers(registry: reg, repository: repo, digest: digest, artifactType: nil, deadline: deadline)
        } catch {
            result.recordLookup(error)
            return
        }
        var manifestBytes: Data?
        var examined = 0
        for referrer in referrers {
            guard examined < maxSignatures else {
                result.checks.append(SignatureCheck(source: .referrer(referrer.digest), passed: false,
                                                    reason: "skipped: more than \(maxSignatures) referrers"))
                break
            }
            examined += 1
            guard referrer.artifactType.map(Self.isBundleMediaType) ?? false || referrer.layers.contains(where: { Self.isBundleMediaType($0.mediaType) }),
                  let layer = referrer.layers.first(where: { Self.isBundleMediaType($0.mediaType) }) else { continue }
            var check = SignatureCheck(source: .referrer(referrer.digest), passed: false, reason: "")
            check.format = "sigstore-bundle"
            do {
                if let subject = referrer.subject, subject.digest != digest {
                    throw ImageCheckFailure("referrer's subject is \(subject.digest), not \(digest)")
                }
                let json = Data(try registry.blob(registry: reg, repository: repo, digest: layer.digest, maxBytes: maxLayerBytes, deadline: deadline))
                let bundle = try SigstoreBundle(json: json)
                let isDSSE: Bool
                if case .dsse = bundle.content { isDSSE = true } else { isDSSE = false }
                // Attestation lookups only consider DSSE bundles; signature lookups message signatures and DSSE
                // bundles of cosign's signature predicate (other DSSE bundles are attestations: not signatures).
                if predicateType != nil && !isDSSE { continue }
                if predicateType == nil, case .dsse(let env) = bundle.content,
                   (try? InTotoStatement(json: env.payload))?.predicateType != Self.cosignSignPredicate { continue }
                let artifact: Artifact
                if isDSSE {
                    guard let raw = Encoding.hexDigest(String(digest.dropFirst(7))), digest.hasPrefix("sha256:") else {
                        throw ImageCheckFailure("unsupported image digest \(digest)")
                    }
                    artifact = .digest(.sha256, raw)
                } else {
                    if manifestBytes == nil {
                        let m = try registry.manifest(registry: reg, repository: repo, reference: digest, deadline: deadline)
                        manifestBytes = Data(m.bytes)
                    }
                    artifact = .bytes(manifestBytes!)
                }
                if !options.requiredAnnotations.isEmpty {
                    throw ImageCheckFailure("required annotations cannot be checked on a Sigstore bundle (it has no simple-signing payload)")
                }
                let r = try BundleVerifier(trustedRoot: options.trustedRoot).verify(bundle: bundle, artifact: artifact, policy: options.verificationPolicy, at: options.now)
                check.certificateSubject = r.subjectAlternativeName
                check.certificateIssuer = r.oidcIssuer
                check.certificateExtensions = r.extensions?.values ?? [:]
                check.verifiedTimes = r.timestamps.map(\.time)
                check.rekorLogIndex = r.tlogEntries.first?.logIndex
                if let env = r.envelope {
                    check.envelopeJSON = try? JSONSerialization.data(withJSONObject: env.jsonObject(), options: [.sortedKeys])
                    check.payload = env.payload
                }
                check.predicateType = r.statement?.predicateType
                if let predicateType {
                    try check.requirePredicate(predicateType)
                } else if isDSSE, r.statement?.predicateType != Self.cosignSignPredicate {
                    throw ImageCheckFailure("DSSE bundle is an attestation of type \(r.statement?.predicateType ?? "?"), not a cosign signature (\(Self.cosignSignPredicate))")
                }
                check.passed = true
                check.reason = "verified"
            } catch {
                check.fail(error)
            }
            result.checks.append(check)
        }
    }

    private func location(_ image: ImageRef, _ options: CosignCheckOptions) -> (String, String) {
        if let repo = options.signatureRepository, let ref = try? ImageRef(parsing: repo) {
            return (ref.registry, ref.repository)
        }
        return (image.registry, image.repository)
    }
}

extension SignatureCheck {
    mutating func record(_ v: CosignLayerVerifier.Verified) {
        passed = true
        reason = "verified"
        simpleSigning = v.simpleSigning
        certificateSubject = v.certificate?.subjectAlternativeName
        certificateIssuer = v.certificate?.issuer
        certificateExtensions = v.certificate?.extensions.values ?? [:]
        verifiedTimes = v.times
        rekorLogIndex = v.logIndex
        if let st = v.statement { predicateType = st.predicateType }
        if let env = v.envelope { payload = env.payload }
    }

    mutating func requirePredicate(_ wanted: String) throws {
        guard predicateType == wanted else {
            passed = false
            throw ImageCheckFailure("predicate type is \(predicateType ?? "(none)"), not \(wanted)", step: .subject)
        }
    }

    mutating func fail(_ error: Error) {
        passed = false
        failedStep = VerificationStepMapping.step(of: error)
        if let e = error as? RegistryError {
            transient = e.isTransient
            reason = e.description
        } else {
            reason = "\(error)"
        }
    }
}

extension ImageVerificationResult {
    mutating func recordLookup(_ error: Error) {
        let text = (error as? RegistryError)?.description ?? "\(error)"
        lookupError = lookupError.map { "\($0); \(text)" } ?? text
        if let e = error as? RegistryError, e.isTransient { lookupTransient = true }
    }
}

/// A value written by one thread before a semaphore signal and read by another after the wait.
private final class OnceBox<T>: @unchecked Sendable {
    var value: T?
}
