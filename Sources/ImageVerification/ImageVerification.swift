// ImageVerification — cosign-compatible verification of container image signatures and attestations (issue 6).
//
// Public API:
//
//   CosignAuthorityVerifier(registry:trustedRoot:timeout:clock:secrets:)   ImagePolicy.AuthorityVerifier for the
//       webhook: verifySignature / verifyAttestations (async; registry I/O on Dispatch workers, bounded by `timeout`).
//       `options(for: SignatureAuthority)` maps policy authorities (key, secret, keyless + custom CA, certificates,
//       tlog/SCT ignore, custom Rekor/CT keys, TSA chain, annotations, hashAlgorithm, signatureRepository).
//   CosignVerifier(registry:)                                   blocking, registry-level:
//       verifySignatures(image:digest:options:deadline:)        cosign tag scheme (.sig), then bundle referrers
//       verifyAttestations(image:digest:predicateType:options:deadline:)   .att tag scheme + DSSE bundle referrers
//   CosignLayerVerifier.verifySignature / verifyAttestation     pure checks of one layer (no I/O)
//   CosignCheckOptions / CosignSigner                           what must hold (cosign CheckOpts)
//   ImageVerificationResult / SignatureCheck / SignatureSource  per-signature verdicts; `summary` names each one
//   PredicateType.resolve                                       cosign --type short names → predicate URIs
//
// Checks for a cosign signature layer, in order: signature annotation; signer (key, or certificate annotation);
// signature over the simple-signing payload bytes; payload digest == image digest and payload type; required
// annotations; Rekor bundle annotation (SET by a trusted log, body records this signature, signer and payload
// hash) unless the tlog is ignored (an entry from a known log is still checked); RFC 3161 timestamp over the
// signature; future-time check; keyless: chain to a trusted Fulcio CA, validity and SCT at every verified time
// (or now, when there is none), then the identity.
