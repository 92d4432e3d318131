import ImagePolicy
import Registry
import SigstoreVerify

/// Which verification step an error comes from, so reasons name the check that rejected.
enum VerificationStepMapping {
    static func step(of error: Error) -> VerificationStep {
        switch error {
        case let e as ImageCheckFailure: return e.step
        case is RegistryError: return .lookup
        case is CosignVerificationError: return .configuration
        case let e as SigstoreError: return step(of: e)
        default: return .format
        }
    }

    static func step(of e: SigstoreError) -> VerificationStep {
        switch e {
        case .malformedBundle, .unsupportedBundleVersion, .malformedKey, .malformedCertificate, .malformedTimestamp,
             .malformedEnvelope, .malformedCheckpoint, .malformedLogEntry, .unsupportedAlgorithm, .artifactRequired:
            return .format
        case .malformedTrustedRoot, .policyMismatch: return .configuration
        case .artifactDigestMismatch, .signatureInvalid, .publicKeyMismatch: return .signature
        case .subjectDigestMismatch: return .subject
        case .certificateChainUntrusted, .certificateExpired, .certificateAuthorityNotValid, .certificateNotCodeSigning: return .certificate
        case .certificateIdentityMismatch, .certificateIssuerMismatch: return .identity
        case .sctMissing, .sctUnknownLog, .sctInvalid: return .sct
        case .tlogEntryMissing, .tlogUnknownLog, .tlogKeyNotValid, .setInvalid, .setMissing, .inclusionProofInvalid,
             .inclusionProofRootMismatch, .checkpointMissing, .checkpointSignatureInvalid, .checkpointMismatch, .tlogBodyMismatch:
            return .transparencyLog
        case .timestampMissing, .timestampUntrusted, .timestampImprintMismatch, .timestampSignatureInvalid, .timestampOutsideValidity:
            return .timestamp
        }
    }
}
