import Foundation

/// Matches a string exactly or by regular expression (unanchored, like sigstore-go and cosign; anchor with ^...$).
public enum StringMatcher: Sendable, Hashable, CustomStringConvertible {
    case exact(String)
    case regex(String)

    /// Throws if the pattern does not compile, so policies fail early.
    public static func regexp(_ pattern: String) throws -> StringMatcher {
        do { _ = try CompiledRegex.compiled(pattern) } catch { throw SigstoreError.policyMismatch("invalid regular expression '\(pattern)'") }
        return .regex(pattern)
    }

    public func matches(_ s: String) -> Bool {
        switch self {
        case .exact(let e): return s == e
        case .regex(let p):
            guard let r = try? CompiledRegex.compiled(p) else { return false }
            return r.matches(s)
        }
    }

    public var description: String {
        switch self { case .exact(let s): s; case .regex(let p): "/\(p)/" }
    }
}

/// An expected signer: OIDC issuer + SAN, optionally constraints on other Fulcio extensions.
public struct CertificateIdentity: Sendable, Hashable {
    public var issuer: StringMatcher
    public var subjectAlternativeName: StringMatcher
    /// Extra Fulcio extension constraints keyed by OID last arc (e.g. 12 = source repository URI).
    public var extensions: [Int: StringMatcher]

    public init(issuer: StringMatcher, subjectAlternativeName: StringMatcher, extensions: [Int: StringMatcher] = [:]) {
        self.issuer = issuer; self.subjectAlternativeName = subjectAlternativeName; self.extensions = extensions
    }

    /// Throws the specific mismatch (identity first, then issuer, then extensions).
    public func check(_ cert: FulcioCertificate) throws {
        let san = cert.subjectAlternativeName ?? ""
        guard subjectAlternativeName.matches(san) else {
            throw SigstoreError.certificateIdentityMismatch(actual: san, expected: subjectAlternativeName.description)
        }
        let iss = cert.issuer ?? ""
        guard issuer.matches(iss) else {
            throw SigstoreError.certificateIssuerMismatch(actual: iss, expected: issuer.description)
        }
        for (arc, matcher) in extensions.sorted(by: { $0.key < $1.key }) {
            let v = cert.extensions.values[arc] ?? ""
            guard matcher.matches(v) else {
                throw SigstoreError.policyMismatch("certificate extension 1.3.6.1.4.1.57264.1.\(arc) '\(v)' does not match expected '\(matcher)'")
            }
        }
    }

    /// Passes if any identity matches; otherwise throws the first identity's mismatch.
    public static func check(_ identities: [CertificateIdentity], _ cert: FulcioCertificate) throws {
        var first: Error?
        for id in identities {
            do { try id.check(cert); return } catch { if first == nil { first = error } }
        }
        throw first ?? SigstoreError.policyMismatch("no certificate identities configured")
    }
}
