// Micro benchmarks of the warm path's pieces, release mode, one thread: how long each step takes per call.
//   swift run -c release sealgate-microbench [--scale F] [--json FILE]
// --scale multiplies the iteration counts (CI's smoke run uses a tiny scale); --only SUBSTRING picks benchmarks.
import Admission
import Foundation
import ImagePolicy
import ImageReference
import Logging
import SigstoreVerify

struct Result: Codable {
    var name: String
    var iterations: Int
    var nanosecondsPerOp: Double
}

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// Runs `body` `iterations` times (after a short warm-up) and returns ns per call.
@MainActor func measure(_ name: String, _ iterations: Int, _ body: () throws -> Void) rethrows -> Result {
    // --only SUBSTRING runs just the matching benchmarks (for profiling one of them).
    if let only, !name.contains(only) { return Result(name: name, iterations: 0, nanosecondsPerOp: 0) }
    for _ in 0..<max(1, iterations / 10) { try body() }
    let start = now()
    for _ in 0..<iterations { try body() }
    return Result(name: name, iterations: iterations, nanosecondsPerOp: Double(now() - start) / Double(iterations))
}

struct NoVerifier: AuthorityVerifier {
    func verifySignature(image: ImageRef, digest: String, authority: SignatureAuthority) async -> AuthorityOutcome { .fail("unused") }
    func verifyAttestations(image: ImageRef, digest: String, authority: SignatureAuthority?, predicateType: String) async -> AuthorityOutcome { .fail("unused") }
}

struct NoResolver: DigestResolver {
    struct Unused: Error {}
    func digest(of image: ImageRef, deadline: Deadline) async throws -> String { throw Unused() }
}

var scale = 1.0
var jsonOut: String?
var only: String?
var args = CommandLine.arguments.dropFirst()
while let arg = args.popFirst() {
    switch arg {
    case "--scale": scale = Double(args.popFirst() ?? "1") ?? 1
    case "--json": jsonOut = args.popFirst()
    case "--only": only = args.popFirst()
    default: FileHandle.standardError.write(Data("unknown argument \(arg)\n".utf8)); exit(2)
    }
}
@MainActor func n(_ base: Int) -> Int { max(1, Int(Double(base) * scale)) }

let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let review = try Data(contentsOf: root.appendingPathComponent("Tests/Fixtures/admission/pod-review-v1.json"))
let reviewBytes = [UInt8](review)
var results: [Result] = []

// 1. AdmissionReview decoding: ours (JSONSerialization + envelope by hand) beside plain JSONDecoder.
results.append(try measure("decode AdmissionReview (\(review.count) B)", n(20_000)) { _ = try AdmissionReviewDecoding.decode(reviewBytes) })
results.append(try measure("decode AdmissionReview with JSONDecoder (reference)", n(2_000)) { _ = try JSONDecoder().decode(AdmissionReview.self, from: review) })

// 2. The whole endpoint (decode, decide with a static policy, encode), no transport.
let allowAll = try PolicyLoader.load(paths: [root.appendingPathComponent("Tests/Fixtures/policies/allow-all-static.yaml").path]).get()
let decider = PolicyDecider(store: PolicyStore(policies: allowAll), resolver: NoResolver(), verifier: NoVerifier(), settings: AdmissionSettings(),
                            logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
let endpoint = AdmissionEndpoint(decider: decider)
results.append(measure("endpoint: decode + static decision + encode", n(10_000)) {
    let reply = endpoint.handle(method: "POST", contentType: "application/json", query: "timeout=10s", body: reviewBytes, mutating: false)
    precondition(reply.status == 200)
})

// 3. Image references.
results.append(try measure("parse image reference", n(100_000)) { _ = try ImageRef(parsing: "ghcr.io/example/shop/web:v1.2.3") })

// 4. Matching one image against 100 policies (globs over registries and repositories).
let hundred = (0..<100).map { i in
    """
    apiVersion: policy.sigstore.dev/v1beta1
    kind: ClusterImagePolicy
    metadata: {name: team-\(i)}
    spec:
      images: [{glob: "registry-\(i).example.com/team-\(i)/**"}, {glob: "ghcr.io/org-\(i)/*"}]
      authorities: [{static: {action: pass}}]
    """
}.joined(separator: "\n---\n")
let evaluator = PolicyEvaluator(policies: try PolicyLoader.load(text: hundred, file: "hundred.yaml").get())
let context = AdmissionContext(kind: "Pod", resource: "pods", namespace: "shop", name: "web")
let matched = try ImageRef(parsing: "ghcr.io/org-99/web:v1"), unmatched = try ImageRef(parsing: "quay.io/other/web:v1")
results.append(measure("match 1 image against 100 policies (last one matches)", n(20_000)) { precondition(evaluator.applies(image: matched, context: context)) })
results.append(measure("match 1 image against 100 policies (none matches)", n(20_000)) { precondition(!evaluator.applies(image: unmatched, context: context)) })

// 5. A Kyverno-style JMESPath condition over a SLSA provenance predicate.
let predicate = try JSONValue.parse(#"{"buildDefinition":{"buildType":"https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1","externalParameters":{"workflow":{"ref":"refs/heads/main","repository":"https://github.com/example/shop","path":".github/workflows/release.yml"}}},"runDetails":{"builder":{"id":"https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.0.0"}}}"#)
let expression = try JMESPath.compile("buildDefinition.externalParameters.workflow.repository == 'https://github.com/example/shop' && starts_with(runDetails.builder.id, 'https://github.com/slsa-framework/')")
results.append(try measure("JMESPath condition on a SLSA v1 predicate", n(50_000)) {
    let result = try expression.search(predicate)
    precondition(result == .bool(true))
})
results.append(try measure("JMESPath compile", n(20_000)) { _ = try JMESPath.compile("runDetails.builder.id") })

// 6. Sigstore bundle verification (v0.3, keyless, Rekor inclusion proof) with the public-good root.
let conformance = root.deletingLastPathComponent().appendingPathComponent("shared/testdata/sigstore-conformance/bundle-verify")
if let bundleData = try? Data(contentsOf: conformance.appendingPathComponent("happy-path-v0.3/bundle.sigstore.json")),
   let artifact = try? Data(contentsOf: conformance.appendingPathComponent("a.txt")) {
    let verifier = BundleVerifier(trustedRoot: try TrustedRoot.publicGood())
    let bundle = try SigstoreBundle(json: bundleData)
    let policy = VerificationPolicy.identity(CertificateIdentity(issuer: .regex(".*"), subjectAlternativeName: .regex(".*")))
    results.append(try measure("verify Sigstore bundle v0.3 (keyless, Rekor proof)", n(500)) {
        _ = try verifier.verify(bundle: bundle, artifact: .bytes(artifact), policy: policy, at: Date())
    })
    results.append(try measure("parse Sigstore bundle JSON", n(2_000)) { _ = try SigstoreBundle(json: bundleData) })
}

print("| benchmark | iterations | time per op |")
print("|---|---:|---:|")
for r in results where r.iterations > 0 {
    let t = r.nanosecondsPerOp >= 1_000_000 ? String(format: "%.2f ms", r.nanosecondsPerOp / 1e6) : String(format: "%.1f µs", r.nanosecondsPerOp / 1e3)
    print("| \(r.name) | \(r.iterations) | \(t) |")
}
if let jsonOut {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(results.filter { $0.iterations > 0 }).write(to: URL(fileURLWithPath: jsonOut))
}
