import Foundation

/// One case per failed check. `description` names the check so a rejection reason is readable on its own.
public enum SigstoreError: Error, Equatable, CustomStringConvertible, Sendable {
    // Input / format
    case malformedBundle(String)
    case unsupportedBundleVersion(String)
    case malformedTrustedRoot(String)
    case malformedKey(String)
    case malformedCertificate(String)
    case malformedTimestamp(String)
    case malformedEnvelope(String)
    case malformedCheckpoint(String)
    case malformedLogEntry(String)
    case unsupportedAlgorithm(String)

    // Artifact / signature
    case artifactDigestMismatch
    case signatureInvalid(String)
    case artifactRequired(String)
    case subjectDigestMismatch

    // Certificates
    case certificateChainUntrusted(String)
    case certificateExpired(at: Date, notBefore: Date, notAfter: Date)
    case certificateAuthorityNotValid(at: Date)
    case certificateNotCodeSigning(String)
    case certificateIdentityMismatch(actual: String, expected: String)
    case certificateIssuerMismatch(actual: String, expected: String)

    // Certificate transparency
    case sctMissing
    case sctUnknownLog(String)
    case sctInvalid(String)

    // Transparency log
    case tlogEntryMissing
    case tlogUnknownLog(String)
    case tlogKeyNotValid(at: Date)
    case setInvalid
    case setMissing
    case inclusionProofInvalid(String)
    case inclusionProofRootMismatch
    case checkpointMissing
    case checkpointSignatureInvalid
    case checkpointMismatch(String)
    case tlogBodyMismatch(String)

    // Timestamps
    case timestampMissing(String)
    case timestampUntrusted(String)
    case timestampImprintMismatch
    case timestampSignatureInvalid
    case timestampOutsideValidity(String)

    // Key-based
    case publicKeyMismatch
    case policyMismatch(String)

    public var description: String {
        switch self {
        case .malformedBundle(let s): return "malformed bundle: \(s)"
        case .unsupportedBundleVersion(let s): return "unsupported bundle media type '\(s)'"
        case .malformedTrustedRoot(let s): return "malformed trusted root: \(s)"
        case .malformedKey(let s): return "malformed public key: \(s)"
        case .malformedCertificate(let s): return "malformed certificate: \(s)"
        case .malformedTimestamp(let s): return "malformed RFC 3161 timestamp: \(s)"
        case .malformedEnvelope(let s): return "malformed DSSE envelope: \(s)"
        case .malformedCheckpoint(let s): return "malformed checkpoint: \(s)"
        case .malformedLogEntry(let s): return "malformed transparency log entry: \(s)"
        case .unsupportedAlgorithm(let s): return "unsupported algorithm: \(s)"
        case .artifactDigestMismatch: return "artifact digest does not match the bundle's message digest"
        case .signatureInvalid(let s): return "signature verification failed: \(s)"
        case .artifactRequired(let s): return "artifact bytes required: \(s)"
        case .subjectDigestMismatch: return "artifact digest does not match any in-toto statement subject"
        case .certificateChainUntrusted(let s): return "certificate chain does not verify to a trusted Fulcio CA: \(s)"
        case .certificateExpired(let at, let nb, let na):
            return "certificate not valid at signing time \(iso(at)) (valid \(iso(nb)) to \(iso(na)))"
        case .certificateAuthorityNotValid(let at): return "no trusted certificate authority valid at signing time \(iso(at))"
        case .certificateNotCodeSigning(let s): return "certificate is not a code-signing leaf: \(s)"
        case .certificateIdentityMismatch(let a, let e): return "certificate identity '\(a)' does not match expected '\(e)'"
        case .certificateIssuerMismatch(let a, let e): return "certificate OIDC issuer '\(a)' does not match expected '\(e)'"
        case .sctMissing: return "certificate has no embedded signed certificate timestamp"
        case .sctUnknownLog(let s): return "SCT from unknown CT log \(s)"
        case .sctInvalid(let s): return "SCT verification failed: \(s)"
        case .tlogEntryMissing: return "bundle has no transparency log entry"
        case .tlogUnknownLog(let s): return "transparency log entry from unknown log \(s)"
        case .tlogKeyNotValid(let at): return "transparency log key not valid at \(iso(at))"
        case .setInvalid: return "signed entry timestamp (SET) signature invalid"
        case .setMissing: return "transparency log entry has neither a signed entry timestamp nor an inclusion proof with checkpoint"
        case .inclusionProofInvalid(let s): return "inclusion proof invalid: \(s)"
        case .inclusionProofRootMismatch: return "inclusion proof root hash mismatch"
        case .checkpointMissing: return "inclusion proof missing required checkpoint (nothing signed its root hash)"
        case .checkpointSignatureInvalid: return "checkpoint has no valid signature from the transparency log"
        case .checkpointMismatch(let s): return "checkpoint does not match inclusion proof: \(s)"
        case .tlogBodyMismatch(let s): return "transparency log entry does not match the bundle: \(s)"
        case .timestampMissing(let s): return "not enough verified timestamps: \(s)"
        case .timestampUntrusted(let s): return "RFC 3161 timestamp not from a trusted TSA: \(s)"
        case .timestampImprintMismatch: return "RFC 3161 timestamp message imprint does not match the signature"
        case .timestampSignatureInvalid: return "RFC 3161 timestamp signature invalid"
        case .timestampOutsideValidity(let s): return "timestamp outside validity: \(s)"
        case .publicKeyMismatch: return "bundle public key does not match the expected key"
        case .policyMismatch(let s): return "policy mismatch: \(s)"
        }
    }
}

func iso(_ d: Date) -> String { Encoding.iso8601(d) }
