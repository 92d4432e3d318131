// SigstoreVerify — pure, offline Sigstore verification (see ../shared/DESIGN.md).
//
// Public API for the image-verification layer (values in, values out; no I/O, no singletons,
// the clock is a parameter):
//
//   TrustedRoot(json:) / TrustedRoot.publicGood()      trusted_root.json; tlogs, ctlogs, Fulcio CAs, TSAs
//   PublicKey(pem:) / PublicKey(der:keyDetails:)       ECDSA P-256/384/521, RSA PKCS#1 v1.5 / PSS, Ed25519
//       .verify(signature:data:)  .verify(signature:digest:algorithm:)  (ECDSA only for digests)
//   FulcioCertificate(der:)                            leaf + SAN identity + FulcioExtensions (OIDs 57264.1.1–22)
//   CertificateIdentity(issuer:subjectAlternativeName:extensions:) with StringMatcher .exact / .regexp
//   FulcioCertificateVerifier(trustedRoot:).verify(_:at:)   chain to a CA valid at a time, code-signing leaf, SCTs
//   SCTVerifier(ctlogs:)                               embedded precertificate SCTs
//   TransparencyLogEntry(cosignBundleJSON:)            cosign "dev.sigstore.cosign/bundle" annotation → entry
//   RekorEntryVerifier(trustedRoot:).verify(_:)        SET, RFC 6962 inclusion proof, signed checkpoint
//   RekorBodyMatcher.check(_:content:signer:artifact:) hashedrekord/dsse/intoto bodies match what was signed
//   TimestampVerifier(authorities:).verify(_:signature:)  RFC 3161 token → authenticated Date
//   DSSEEnvelope (PAE), InTotoStatement (subjects)
//   SigstoreBundle(json:)                              bundle v0.1 / v0.2 / v0.3
//   BundleVerifier(trustedRoot:).verify(bundle:artifact:policy:at:) -> VerificationResult
//       VerificationPolicy: .identity(CertificateIdentity) or .key(PublicKey); tlog/timestamp/SCT thresholds
//       VerificationResult: certificate, SAN, OIDC issuer, extensions, verified timestamps, envelope, statement
//
// Every failed check throws a `SigstoreError` whose description names the check.
//
// BundleVerifier is the one implementation of the check sequence (signature → tlog → timestamps → certificate
// at each verified time → identity); cosign tag-scheme layers reach it adapted into a SigstoreBundle
// (ImageVerification.CosignLayerVerifier). SLSABuilderTrust holds slsa-verifier's builder trust rules.
