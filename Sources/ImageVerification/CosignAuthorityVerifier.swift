import Crypto
import Dispatch
import Foundation
import ImagePolicy
import ImageReference
import Registry
import SealgateCore
import SigstoreVerify

/// The policy engine's `AuthorityVerifier`, backed by the registry and cosign-compatible verification.
///
///     let verifier = CosignAuthorityVerifier(registry: client, trustedRoot: try .publicGood(), timeout: 10,
///                                            secrets: { ns, name in kubeSecretPEM(ns, name) })
///
/// Registry calls are blocking; each call runs them on a `BlockingIO` thread (never on the cooperative pool),
/// bounded by `timeout` seconds. Registry timeouts/5xx/429/unreachable give `transient` outcomes;
/// missing or bad signatures give non-transient failures. The reason names every signature tried.
public struct CosignAuthorityVerifier: AuthorityVerifier {
    /// PEM text of a Kubernetes secret's key (`cosign.pub`, or a CA bundle), or nil if absent.
    public typealias SecretLookup = @Sendable (_ namespace: String?, _ name: String) -> String?
    /// A TrustRoot object's keys by name (authorities' `trustRootRef`), or nil if there is none; throws when the
    /// TrustRoot exists but cannot be used (malformed keys, a TUF repository with no good root).
    public typealias TrustRootLookup = @Sendable (_ name: String) throws -> TrustedRoot?

    public let verifier: CosignVerifier
    /// The trusted root of authorities that name no TrustRoot: `--trusted-root`, the embedded one, or the current
    /// one of a TUF repository (`--tuf-mirror`), read for each verification so a refresh takes effect at once.
    public var defaultTrustedRoot: @Sendable () -> TrustedRoot
    public var trustedRoot: TrustedRoot { defaultTrustedRoot() }
    /// Seconds allowed for all registry calls of one `verify…` call.
    public let timeout: Double
    public let clock: @Sendable () -> Date
    public let secrets: SecretLookup
    /// Where `trustRootRef` names are looked up (the cluster's TrustRoot objects); none by default.
    public var trustRoots: TrustRootLookup = { _ in nil }
    /// Docker Content Trust authorities (Connaisseur `notaryv1` validators).
    public var notary = NotaryAuthorityVerifier()

    public init(registry: RegistryClient, trustedRoot: TrustedRoot, timeout: Double = 10,
                clock: @escaping @Sendable () -> Date = { Date() },
                secrets: @escaping SecretLookup = { _, _ in nil }) {
        self.init(source: registry, trustedRoot: trustedRoot, timeout: timeout, clock: clock, secrets: secrets)
    }

    /// Verification reading from any `ImageSource` (e.g. an offline `OCILayout`).
    public init(source: any ImageSource, trustedRoot: TrustedRoot, timeout: Double = 10,
                clock: @escaping @Sendable () -> Date = { Date() },
                secrets: @escaping SecretLookup = { _, _ in nil }) {
        self.verifier = CosignVerifier(source: source)
        self.defaultTrustedRoot = { trustedRoot }
        self.timeout = timeout
        self.clock = clock
        self.secrets = secrets
    }

    public func verifySignature(image: ImageRef, digest: String, authority: SignatureAuthority) async -> AuthorityOutcome {
        if case .notary(let trust) = authority.trust {
            let deadline = callDeadline
            return await Self.offPool { [notary] in notary.verify(image: image, digest: digest, trust: trust, label: authority.label, deadline: deadline) }
        }
        let options: CosignCheckOptions
        do { options = try self.options(for: authority) } catch {
            return .fail("\(authority.label): \(error)", step: .configuration)
        }
        let deadline = callDeadline
        let result = await Self.offPool { verifier.verifySignatures(image: image, digest: digest, options: options, deadline: deadline) }
        return Self.outcome(result, attestations: false)
    }

    /// With `authority` nil (Kyverno attestations without attestors) any Fulcio certificate trusted by the
    /// trusted root is accepted, with the transparency log required.
    public func verifyAttestations(image: ImageRef, digest: String, authority: SignatureAuthority?, predicateType: String) async -> AuthorityOutcome {
        let options: CosignCheckOptions
        do {
            if let authority {
                options = try self.options(for: authority)
            } else {
                let any = CertificateIdentity(issuer: .regex(".*"), subjectAlternativeName: .regex(".*"))
                options = CosignCheckOptions(signer: .keyless([any]), trustedRoot: trustedRoot, now: clock())
            }
        } catch {
            return .fail("\(authority?.label ?? "attestations"): \(error)", step: .configuration)
        }
        let type = (try? PredicateType.resolve(predicateType)) ?? predicateType
        let deadline = callDeadline
        let result = await Self.offPool {
            verifier.verifyAttestations(image: image, digest: digest, predicateType: type, options: options, deadline: deadline)
        }
        return Self.outcome(result, attestations: true)
    }

    /// The decision's deadline (`Deadline.current`), and never more than `timeout` from now.
    var callDeadline: Deadline { (Deadline.current ?? .after(seconds: timeout)).capped(seconds: timeout) }

    /// Verdicts depend on the trust root and on keys read from secrets (which can change under the
    /// same authority): both go into the fingerprint by content.
    public func material(for authority: SignatureAuthority?) -> VerificationMaterial {
        let root = (try? self.root(for: authority)) ?? trustedRoot
        var parts = [root.fingerprint]
        switch authority?.trust {
        case .secret(let namespace, let name)?: parts.append(secrets(namespace, name) ?? "-")
        case .keyless(let k)? where k.rootsSecret != nil: parts.append(secrets(k.rootsSecret!.namespace, k.rootsSecret!.name) ?? "-")
        default: break
        }
        let digest = Encoding.hex(SHA256.hash(data: Data(parts.joined(separator: "\u{0}").utf8)))
        return VerificationMaterial(fingerprint: digest, expires: root.nextExpiry(after: clock()))
    }

    // MARK: - Mapping

    static func outcome(_ result: ImageVerificationResult, attestations: Bool) -> AuthorityOutcome {
        guard result.passed else { return .fail(result.summary, transient: result.transient, step: result.failedStep) }
        var outcome = AuthorityOutcome.pass(result.summary, signatures: result.verified.map(signatureJSON))
        if attestations {
            // JSONScanner first (no Foundation tree to convert); what it refuses is read by Foundation as before.
            outcome.statements = result.verified.compactMap { $0.payload.flatMap { (try? JSONValue.parse(bytes: Array($0))) ?? (try? JSONValue.parse(data: $0)) } }
        }
        return outcome
    }

    static func signatureJSON(_ c: SignatureCheck) -> JSONValue {
        var o: [String: JSONValue] = ["source": .string(c.source.description), "format": .string(c.format)]
        if let s = c.certificateSubject { o["subject"] = .string(s) }
        if let i = c.certificateIssuer { o["issuer"] = .string(i) }
        if !c.certificateExtensions.isEmpty {
            var ext: [String: JSONValue] = [:]
            for (arc, v) in c.certificateExtensions { ext["1.3.6.1.4.1.57264.1.\(arc)"] = .string(v) }
            o["extensions"] = .object(ext)
        }
        if let p = c.predicateType { o["predicateType"] = .string(p) }
        if let ss = c.simpleSigning, !ss.optional.isEmpty { o["annotations"] = .object(ss.optional.mapValues { .string($0) }) }
        if let idx = c.rekorLogIndex { o["rekorLogIndex"] = .number(Double(idx)) }
        if !c.verifiedTimes.isEmpty {
            // ISO8601DateFormatter's default text; building a formatter per verdict cost as much as a signature check.
            o["verifiedTimes"] = .array(c.verifiedTimes.map { .string(Encoding.iso8601($0)) })
        }
        return .object(o)
    }

    /// Runs blocking work on a `BlockingIO` thread and awaits it without blocking the cooperative pool.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await BlockingIO.run(RequestCredentials.carried(work))  // the request's pull secrets follow onto the I/O thread
    }

    // MARK: - Authority → options

    /// Translates a policy authority into cosign check options. Throws for configurations sealgate cannot
    /// honour (KMS, missing secrets, malformed keys/CAs).
    public func options(for authority: SignatureAuthority) throws -> CosignCheckOptions {
        var root = try self.root(for: authority)
        let signer: CosignSigner
        switch authority.trust {
        case .publicKey(let pem):
            signer = .publicKey(try Self.key(pem, what: "public key"))
        case .secret(let namespace, let name):
            guard let pem = secrets(namespace, name) else {
                throw CosignVerificationError.configuration("secret \(namespace.map { "\($0)/" } ?? "")\(name) not found or has no key")
            }
            signer = .publicKey(try Self.key(pem, what: "key in secret \(name)"))
        case .kms(let uri):
            throw CosignVerificationError.configuration("KMS not supported (\(uri))")
        case .notary:
            throw CosignVerificationError.configuration("a notary authority has no cosign signatures")
        case .certificates(let cert, let chain):
            if let cert {
                guard let der = Encoding.pem(cert, label: "CERTIFICATE").first?.der else {
                    throw CosignVerificationError.configuration("certificate is not PEM")
                }
                let c = try FulcioCertificate(der: der)
                if let chain {
                    // The given certificate must itself be issued by the given chain and valid now.
                    let anchors = try CosignCheckOptions.trustedRoot(root, replacingFulcioWith: chain)
                    do { try FulcioCertificateVerifier(trustedRoot: anchors, sctThreshold: 0).verify(c, at: clock()) } catch {
                        throw CosignVerificationError.configuration("certificate does not verify against the certificate chain: \(error)")
                    }
                }
                signer = .publicKey(try PublicKey(certificate: c.certificate))
            } else if let chain {
                root = try CosignCheckOptions.trustedRoot(root, replacingFulcioWith: chain)
                signer = .keyless([CertificateIdentity(issuer: .regex(".*"), subjectAlternativeName: .regex(".*"))])
            } else {
                throw CosignVerificationError.configuration("certificates authority without cert or chain")
            }
        case .keyless(let k):
            if let kms = k.rootsKMS { throw CosignVerificationError.configuration("KMS not supported (\(kms))") }
            if let pem = k.rootsPEM {
                root = try CosignCheckOptions.trustedRoot(root, replacingFulcioWith: pem)
            } else if let s = k.rootsSecret {
                guard let pem = secrets(s.namespace, s.name) else {
                    throw CosignVerificationError.configuration("CA secret \(s.name) not found")
                }
                root = try CosignCheckOptions.trustedRoot(root, replacingFulcioWith: pem)
            }
            var extensions: [Int: SigstoreVerify.StringMatcher] = [:]
            for (name, pattern) in k.additionalExtensions {
                guard let arc = Self.extensionArcs[name.lowercased()] else {
                    throw CosignVerificationError.configuration("unknown certificate extension '\(name)'")
                }
                extensions[arc] = .regex(Self.wildcardRegex(pattern))
            }
            let ids = try (k.identities.isEmpty ? [KeylessIdentity(issuer: nil, subject: nil)] : k.identities).map { id in
                CertificateIdentity(issuer: try Self.matcher(id.issuer), subjectAlternativeName: try Self.matcher(id.subject), extensions: extensions)
            }
            signer = .keyless(ids)
        }
        if let pem = authority.tlog.publicKey, !pem.isEmpty {
            let key = try Self.key(pem, what: "transparency log key")
            root.tlogs.append(TransparencyLogInstance(baseURL: authority.tlog.url ?? "custom", logID: key.keyID, publicKey: key,
                                                      validFor: ValidityPeriod(start: Date(timeIntervalSince1970: 0))))
        }
        if let pem = authority.ctlogPublicKey, !pem.isEmpty {
            let key = try Self.key(pem, what: "CT log key")
            root.ctlogs.append(TransparencyLogInstance(baseURL: "custom", logID: key.keyID, publicKey: key,
                                                       validFor: ValidityPeriod(start: Date(timeIntervalSince1970: 0))))
        }
        if let pem = authority.timestampAuthority, pem.contains("BEGIN CERTIFICATE") {
            let certs = try Encoding.pem(pem, label: "CERTIFICATE").map { try FulcioCertificate(der: $0.der).certificate }
            root.timestampAuthorities.append(CertificateAuthority(uri: "custom-tsa", chain: certs,
                                                                  validFor: ValidityPeriod(start: Date(timeIntervalSince1970: 0))))
        }
        var options = CosignCheckOptions(signer: signer, trustedRoot: root, ignoreTlog: authority.tlog.ignore, ignoreSCT: authority.ignoreSCT,
                                         requiredAnnotations: authority.requiredAnnotations, signatureRepository: authority.signatureRepository,
                                         now: clock())
        options.signatureFormat = Self.signatureFormat(authority.signatureFormat)
        options.requireSignedTimestamp = authority.timestampTrustRootRef != nil
        let hash = authority.hashAlgorithm.lowercased()
        if case .publicKey = signer, !hash.isEmpty {
            guard let h = HashAlgorithm(name: hash) else {
                throw CosignVerificationError.configuration("unsupported hash algorithm '\(authority.hashAlgorithm)'")
            }
            options.hashAlgorithm = h
        }
        return options
    }

    /// policy-controller `signatureFormat` (`legacy`, `bundle`); Kyverno's types look in both places.
    static func signatureFormat(_ name: String) -> SignatureFormat {
        switch name {
        case "legacy": return .legacy
        case "bundle": return .bundle
        default: return .any
        }
    }

    /// The trust root an authority verifies against: the TrustRoot its `keyless.trustRootRef` names (else
    /// `ctlog.trustRootRef`'s, else the configured one), with the Rekor keys of `ctlog.trustRootRef` and the
    /// timestamp authorities of `rfc3161timestamp.trustRootRef` when those name other TrustRoots. A named
    /// TrustRoot that does not exist or cannot be used fails closed.
    func root(for authority: SignatureAuthority?) throws -> TrustedRoot {
        var keylessRef: String?
        if case .keyless(let k)? = authority?.trust { keylessRef = k.trustRootRef }
        let tlogRef = authority?.tlog.trustRootRef
        var root = try named(keylessRef ?? tlogRef) ?? trustedRoot
        if let tlogRef, keylessRef != nil, tlogRef != keylessRef, let logs = try named(tlogRef) {
            root.tlogs = logs.tlogs
            root.fingerprint += "+tlogs:" + logs.fingerprint
        }
        if let tsaRef = authority?.timestampTrustRootRef, let tsas = try named(tsaRef) {
            root.timestampAuthorities = tsas.timestampAuthorities
            root.fingerprint += "+tsas:" + tsas.fingerprint
        }
        return root
    }

    private func named(_ ref: String?) throws -> TrustedRoot? {
        guard let ref, !ref.isEmpty else { return nil }
        guard let found = try trustRoots(ref) else {
            throw CosignVerificationError.configuration("trust root \"\(ref)\" not found (TrustRoot objects come from --policy files or --watch-policies)")
        }
        return found
    }

    static func key(_ pem: String, what: String) throws -> PublicKey {
        do { return try PublicKey(pem: pem) } catch { throw CosignVerificationError.configuration("\(what): \(error)") }
    }

    static func matcher(_ m: ImagePolicy.StringMatcher?) throws -> SigstoreVerify.StringMatcher {
        guard let m else { return .regex(".*") }
        switch m {
        case .exact(let s): return .exact(s)
        case .regex(let r): return try SigstoreVerify.StringMatcher.regexp(r)
        case .wildcard(let w): return .regex(wildcardRegex(w))
        }
    }

    /// Kyverno wildcard (`*`, `?`) as an anchored regular expression.
    static func wildcardRegex(_ pattern: String) -> String {
        var out = "^"
        for ch in pattern {
            switch ch {
            case "*": out += ".*"
            case "?": out += "."
            default:
                if "\\^$.|+()[]{}".contains(ch) { out += "\\" }
                out.append(ch)
            }
        }
        return out + "$"
    }

    /// Kyverno `additionalExtensions` names → Fulcio OID arcs (1.3.6.1.4.1.57264.1.N).
    static let extensionArcs: [String: Int] = [
        "issuer": 8, "githubworkflowtrigger": 2, "githubworkflowsha": 3, "githubworkflowname": 4,
        "githubworkflowrepository": 5, "githubworkflowref": 6, "buildsigneruri": 9, "buildsignerdigest": 10,
        "runnerenvironment": 11, "sourcerepositoryuri": 12, "sourcerepositorydigest": 13, "sourcerepositoryref": 14,
        "sourcerepositoryidentifier": 15, "sourcerepositoryowneruri": 16, "sourcerepositoryowneridentifier": 17,
        "buildconfiguri": 18, "buildconfigdigest": 19, "buildtrigger": 20, "runinvocationuri": 21,
        "sourcerepositoryvisibilityatsigning": 22,
    ]
}
