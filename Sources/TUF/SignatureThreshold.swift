/// A key that can vote towards a role's signature threshold: TUF 1.0 keys (`PublicKey`) and other TUF dialects'
/// keys (Notary v1) count through the same rule.
public protocol ThresholdKey: Sendable {
    /// The key material itself, so one key listed under two key IDs counts once.
    var identity: String { get }
    func verify(signature: [UInt8], message: [UInt8]) -> Bool
}

extension PublicKey: ThresholdKey {}

/// Specification §5: at least `threshold` of the role's authorized keys must have signed `message`. Keys are
/// counted once each by their material; signatures by unlisted keys, or that do not verify, count for nothing.
public enum SignatureThreshold {
    public static func check(role: String, signatures: [(keyID: String, signature: [UInt8])], message: [UInt8],
                             keys: [String: any ThresholdKey], authorized: RoleKeys) throws {
        let allowed = Set(authorized.keyIDs)
        var counted = Set<String>()
        for s in signatures where allowed.contains(s.keyID) {
            guard let key = keys[s.keyID] else { continue }
            if key.verify(signature: s.signature, message: message) { counted.insert(key.identity) }
        }
        guard counted.count >= authorized.threshold else {
            throw TUFError.signatureThreshold(role: role, valid: counted.count, threshold: authorized.threshold)
        }
    }
}
