// ImagePolicy module: policy models, validation and evaluation (no HTTP, no crypto).
//
// Public API for the lead:
//
// Loading and validation
//   PolicyLoader.load(paths: [String]) -> PolicyLoadResult      files and directories (.yaml/.yml/.json, recursive)
//   PolicyLoader.load(text: String, file: String?) -> PolicyLoadResult   multi-document YAML or JSON
//   PolicyLoadResult: .policies (PolicySet), .issues/.errors/.warnings ([PolicyIssue]), .get() throws PolicyLoadError
//   PolicyIssue: severity, file, documentIndex, path ("spec.images[0].glob"), message; description renders
//     "file: document N: field.path: message". Unknown kinds, unknown fields, rego, Notary, bad globs,
//     regexes, JMESPath and CUE outside the subset are errors; KMS keys load with a warning (sealgate has no
//     KMS client; evaluation fails them with "KMS not supported").
//   PolicySet: clusterImagePolicies ([ClusterImagePolicy], policy.sigstore.dev v1alpha1/v1beta1) and
//     kyvernoPolicies ([KyvernoPolicy], kyverno.io v1/v2beta1 ClusterPolicy/Policy with verifyImages rules).
//
// Evaluation (pure: all registry/crypto work goes through the verifier)
//   protocol AuthorityVerifier {
//     func verifySignature(image: ImageRef, digest: String, authority: SignatureAuthority) async -> AuthorityOutcome
//     func verifyAttestations(image: ImageRef, digest: String, authority: SignatureAuthority?, predicateType: String) async -> AuthorityOutcome
//   }
//   SignatureAuthority: dialect-neutral signer description (TrustSource: publicKey PEM / secret / kms /
//     keyless(identities, Fulcio URL or roots) / certificates; hash algorithm, signature repository,
//     pull secrets, tlog/ctlog settings, required annotations).
//   AuthorityOutcome: passed, reason, transient, statements (verified in-toto statements as JSONValue).
//   PolicyEvaluator(policies:).evaluate(image:digest:context:verifier:) async -> ImageVerdict
//     AdmissionContext: kind/group/version/resource, namespace, name, labels, annotations,
//       namespaceLabels, operation, object.
//     ImageVerdict: decision (pass/fail/warn/skip; skip = no policy applied), per-policy PolicyVerdict
//       (policy, Kyverno rule, decision, reasons naming authority/attestor and detail, transient),
//       pinnedReference (image@digest to patch in, from CIP or Kyverno mutateDigest).
//   Semantics: CIP authorities OR, every matching CIP AND, mode warn -> warn; Kyverno attestor sets AND,
//     `count` within a set, attestations with conditions over the predicate, verifyDigest/required,
//     Audit -> warn, transient errors with failurePolicy Ignore -> warn.
//
// Building blocks also public: ImageGlob (CIP globs), Wildcard (Kyverno), JMESPath (spec + Kyverno
// functions), CUEProgram (CUE subset), KyvernoOperator, JSONValue.
