import Foundation
import ImagePolicy
import SigstoreVerify

/// Resolves authorities' `trustRootRef` names against the TrustRoot objects currently loaded (from `--policy`
/// files and, with `--watch-policies`, from the cluster), converting `sigstoreKeys` once per content.
///
///     verifier.trustRoots = TrustRootCatalog { store.current.trustRoots }.lookup
///
/// TUF-based TrustRoots (`remote`, `repository`) and malformed keys fail closed with the reason; two different
/// TrustRoots of one name (a file and the cluster) fail closed as ambiguous.
public final class TrustRootCatalog: @unchecked Sendable {
    private let current: @Sendable () -> [TrustRoot]
    private let lock = NSLock()
    private var converted: [String: (keys: JSONValue, root: Result<TrustedRoot, CosignVerificationError>)] = [:]

    public init(_ current: @escaping @Sendable () -> [TrustRoot]) { self.current = current }

    /// A `CosignAuthorityVerifier.TrustRootLookup`.
    public var lookup: CosignAuthorityVerifier.TrustRootLookup { { [self] name in try self.root(named: name) } }

    public func root(named name: String) throws -> TrustedRoot? {
        let matching = current().filter { $0.name == name }
        guard let first = matching.first else { return nil }
        if matching.contains(where: { $0.material != first.material }) {
            let places = matching.map { $0.source.description }.joined(separator: ", ")
            throw CosignVerificationError.configuration("trust root \"\(name)\" is defined more than once, differently (\(places))")
        }
        if let reason = first.unsupportedReason { throw CosignVerificationError.configuration(reason) }
        guard case .sigstoreKeys(let keys) = first.material else { return nil }
        return try convert(name, keys).get()
    }

    private func convert(_ name: String, _ keys: JSONValue) -> Result<TrustedRoot, CosignVerificationError> {
        lock.lock(); defer { lock.unlock() }
        if let cached = converted[name], cached.keys == keys { return cached.root }
        let result: Result<TrustedRoot, CosignVerificationError>
        do { result = .success(try TrustedRoot(sigstoreKeys: Data(keys.jsonString.utf8))) } catch {
            result = .failure(.configuration("trust root \"\(name)\" spec.sigstoreKeys: \(error)"))
        }
        converted[name] = (keys, result)
        return result
    }
}
