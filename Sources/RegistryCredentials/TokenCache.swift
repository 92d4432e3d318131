import Foundation
import Registry
import SealgateCore

/// Credentials minted by a token exchange, kept until `margin` seconds before they expire so a token never runs
/// out between our check and the registry's. One per provider, keyed by registry; bounded.
final class TokenCache: @unchecked Sendable {
    private let margin: Double
    private let lock = NSLock()
    private var entries: [String: (credential: Credential, expires: Double)] = [:]
    /// Exchanges performed (tests read it to see caching).
    private(set) var mints = 0

    init(margin: Double) { self.margin = margin }

    /// The cached credential for `key`, or `mint()`'s, cached for the lifetime (seconds from now) it reports.
    func credential(_ key: String, mint: () throws -> (Credential, lifetime: Double)) throws -> Credential {
        lock.lock()
        if let hit = entries[key], hit.expires > Deadline.now() { lock.unlock(); return hit.credential }
        lock.unlock()
        let (credential, lifetime) = try mint()
        lock.lock()
        mints += 1
        if entries.count >= 256 { entries = entries.filter { $0.value.expires > Deadline.now() } }
        if lifetime > margin, entries.count < 256 { entries[key] = (credential, Deadline.now() + lifetime - margin) }
        lock.unlock()
        return credential
    }
}
