/// Which roles must have signed an image, and how many of them (Connaisseur `with.delegations`, `with.threshold`).
public struct NotarySigners: Sendable, Hashable {
    /// Delegation roles (`targets/releases`, or `releases` for short); empty: any trusted role may sign.
    public var delegations: [String]
    /// How many of `delegations` must sign the same digest; nil: all of them.
    public var threshold: Int?

    public init(delegations: [String] = [], threshold: Int? = nil) {
        self.delegations = delegations.map { $0.hasPrefix("targets/") ? $0 : "targets/\($0)" }
        self.threshold = threshold
    }
}

/// The digest the trust data signs for an image, and the roles that signed it.
public struct NotarySignedDigest: Sendable, Equatable {
    /// `sha256:<hex>`.
    public let digest: String
    public let signers: [String]

    /// For a tag: the one digest the required roles sign for it. For a digest reference (`tag` nil): that digest,
    /// if the required roles sign it under any tag. Roles that disagree, or too few signers, deny.
    public static func resolve(_ data: NotaryTrustData, tag: String?, digest: String?, signers required: NotarySigners) throws -> NotarySignedDigest {
        let what = tag.map { "tag \($0)" } ?? "digest \(digest ?? "?")"
        let wantHex = digest.map { String($0.dropFirst("sha256:".count)) }
        // role → the digest it signs for this image
        func signed(by role: String) -> String? {
            guard let targets = data.signedTargets[role] else { return nil }
            if let tag { return targets[tag] }
            return targets.values.contains(wantHex ?? "") ? wantHex : nil
        }
        if required.delegations.isEmpty {
            let byRole = data.signedTargets.keys.sorted().compactMap { role in signed(by: role).map { (role, $0) } }
            guard let first = byRole.first else { throw NotaryError.notSigned("no signed digest for \(what) in \(data.gun)") }
            let distinct = Set(byRole.map(\.1))
            guard distinct.count == 1 else {
                throw NotaryError.notSigned("roles sign different digests for \(what) in \(data.gun): "
                    + byRole.map { "\($0.0) → sha256:\($0.1)" }.joined(separator: ", "))
            }
            return NotarySignedDigest(digest: "sha256:\(first.1)", signers: byRole.map(\.0))
        }
        let needed = required.threshold ?? required.delegations.count
        var byDigest: [String: [String]] = [:]
        var missing: [String] = []
        for role in required.delegations {
            if let d = signed(by: role) { byDigest[d, default: []].append(role) } else { missing.append(role) }
        }
        // One digest signed by enough roles; without a threshold every role must sign, and sign that digest.
        let enough = byDigest.filter { $0.value.count >= needed }
        if enough.count == 1, let (hex, roles) = enough.first, required.threshold != nil || byDigest.count == 1 {
            return NotarySignedDigest(digest: "sha256:\(hex)", signers: roles)
        }
        var why = "\(needed) of delegations \(required.delegations.joined(separator: ", ")) must sign \(what) in \(data.gun)"
        if !missing.isEmpty { why += "; not signed by \(missing.joined(separator: ", "))" }
        if byDigest.count > 1 {
            why += "; they sign different digests: " + byDigest.sorted { $0.key < $1.key }
                .map { "sha256:\($0.key) by \($0.value.joined(separator: ", "))" }.joined(separator: "; ")
        }
        throw NotaryError.notSigned(why)
    }
}
