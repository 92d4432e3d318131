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
// A cosign tag-scheme layer is checked in two parts. cosign's own pre-checks stay here: signature annotation,
// payload digest == image digest and payload type, required annotations (attestations: in-toto payload type and
// subject), Rekor bundle annotation present unless the tlog is ignored. Then the layer is adapted into a
// `SigstoreBundle` (certificate annotation → signer, Rekor bundle annotation → log entry, RFC 3161 annotation →
// timestamp) and verified by SigstoreVerify's `BundleVerifier`, the same front door as Sigstore bundles found as
// OCI referrers: one implementation of the Sigstore check sequence. Failures carry a `VerificationStep`
// (VerificationStepMapping) up to the policy layer.
