import Foundation
import ImagePolicy
import ImageReference
import Notary
import Registry
import SealgateCore

/// The `notary` trust source behind the verifier port: one `NotaryServer` per server, CA and credentials (its
/// connections and tokens are reused), and one version memory for rollback checks across decisions.
public final class NotaryAuthorityVerifier: @unchecked Sendable {
    private let lock = NSLock()
    private var servers: [String: NotaryServer] = [:]
    private let versions = NotaryVersions()
    public let clock: @Sendable () -> Date

    public init(clock: @escaping @Sendable () -> Date = { Date() }) { self.clock = clock }

    func server(_ trust: NotaryTrust) throws -> NotaryServer {
        let key = [trust.server, trust.caPEM ?? "", trust.username ?? "", trust.password ?? ""].joined(separator: "\u{0}")
        lock.lock(); defer { lock.unlock() }
        if let s = servers[key] { return s }
        let credentials = trust.username.map { Credential(username: $0, password: trust.password ?? "") }
        let s = try NotaryServer(server: trust.server, caPEM: trust.caPEM.map { Data($0.utf8) }, credentials: credentials)
        servers[key] = s
        return s
    }

    /// Blocking: run off the cooperative pool.
    public func verify(image: ImageRef, digest: String, trust: NotaryTrust, label: String, deadline: Deadline) -> AuthorityOutcome {
        let check: NotaryImageCheck
        do {
            check = try NotaryImageCheck(server: try server(trust), pinnedRootsPEM: trust.rootKeysPEM,
                                         signers: NotarySigners(delegations: trust.delegations, threshold: trust.threshold), versions: versions)
        } catch {
            return .fail("\(label): \(error)", step: .configuration)
        }
        let gun = NotaryImageCheck.gun(registry: image.registry, repository: image.repository)
        do {
            let (signed, _) = try check.verify(gun: gun, tag: image.digest == nil ? image.effectiveTag : nil, digest: digest,
                                               now: clock(), deadline: deadline)
            return .pass("notary: \(signed.digest) signed by \(signed.signers.joined(separator: ", "))",
                         signatures: [.object(["notary": .string(check.server.name), "digest": .string(signed.digest),
                                               "signers": .array(signed.signers.map { .string($0) })])])
        } catch let e as NotaryError {
            let step: VerificationStep
            switch e {
            case .unreachable, .noTrustData, .unauthorized: step = .lookup
            case .metadata: step = .signature
            case .notSigned: step = .payload
            }
            return .fail(e.description, transient: e.transient, step: step)
        } catch {
            return .fail("\(error)", step: .lookup)
        }
    }
}
