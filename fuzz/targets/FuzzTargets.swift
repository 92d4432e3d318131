// The parsers under fuzzing and their invariants, shared by the mutation fuzzer (`sealgate-fuzz`) and the
// libFuzzer build (`sealgate-libfuzz`).
import Admission
import Crypto
import Foundation
import ImagePolicy
import ImageReference
import Logging
import Registry
import SigstoreVerify

public struct InvariantBroken: Error, CustomStringConvertible { public let description: String }

/// A parser under test: `check` throws `InvariantBroken` when the parser misbehaves; parse errors are fine.
public struct Target: Sendable {
    public let name: String
    /// Grammar pieces the mutator inserts.
    public let tokens: [String]
    public let check: @Sendable ([UInt8]) throws -> Void
}

let fixedDocument = try! JSONValue.parse(#"{"a":"b","c":[1,2,3],"items":[{"kind":"Pod","metadata":{"name":"x"},"size":3}],"predicate":{"buildType":"t"},"b":[{"c":{"d":2}}]}"#)
let quiet = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })

struct NoVerifier: AuthorityVerifier {
    func verifySignature(image: ImageRef, digest: String, authority: SignatureAuthority) async -> AuthorityOutcome { .fail("fuzz: no verification") }
    func verifyAttestations(image: ImageRef, digest: String, authority: SignatureAuthority?, predicateType: String) async -> AuthorityOutcome { .fail("fuzz: no verification") }
}
struct NoResolver: DigestResolver {
    struct Offline: Error {}
    func digest(of image: ImageRef, deadline: Deadline) async throws -> String { throw Offline() }
}
let staticPolicies = try! PolicyLoader.load(text: """
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: fuzz}
spec:
  images: [{glob: "**"}]
  authorities: [{static: {action: pass}}]
""", file: "fuzz.yaml").get()
let endpoint = AdmissionEndpoint(decider: PolicyDecider(store: PolicyStore(policies: staticPolicies), resolver: NoResolver(), verifier: NoVerifier(),
                                                        settings: AdmissionSettings(), logger: quiet))

public let targets: [Target] = [
    Target(name: "admission", tokens: ["{", "}", "[", "]", "\"", ":", ",", "null", "true", "1e999", "\"\\u0000\"", "\"request\"", "\"uid\"", "\"object\""]) { bytes in
        let reply = endpoint.handle(method: "POST", contentType: "application/json", query: "timeout=1s", body: bytes, mutating: false)
        guard reply.status == 200 || reply.status == 400 else { throw InvariantBroken(description: "status \(reply.status)") }
        guard (try? JSONSerialization.jsonObject(with: Data(reply.body))) != nil else { throw InvariantBroken(description: "reply is not JSON") }
    },
    Target(name: "policy", tokens: ["\n", ": ", "- ", "{", "}", "[", "]", "&a", "*a", "!!binary", "---\n", "**", "glob: \"[\"", "~", "'", "\"", "\t"]) { bytes in
        let result = PolicyLoader.load(text: String(decoding: bytes, as: UTF8.self), file: "fuzz.yaml")
        for issue in result.issues where !issue.description.contains("fuzz.yaml") {
            throw InvariantBroken(description: "issue without file name: \(issue)")
        }
    },
    Target(name: "imageref", tokens: ["/", ":", "@", "sha256:", ".", "-", "_", "__", "[", "]", "localhost", "A", "\u{00e9}", " ", String(repeating: "a", count: 300)]) { bytes in
        guard let ref = try? ImageRef(parsing: String(decoding: bytes, as: UTF8.self)) else { return }
        // Normalizing is idempotent: the normalized form parses to the same reference. (Docker checks the
        // 255-character name limit on the name as written, so a long short name may normalize past it.)
        guard ref.name.utf8.count <= 255 else { return }
        let again: ImageRef
        do { again = try ImageRef(parsing: ref.normalized) } catch { throw InvariantBroken(description: "normalized form \(ref.normalized) does not parse: \(error)") }
        guard again.registry == ref.registry, again.repository == ref.repository, again.digest == ref.digest,
              again.effectiveTag == ref.effectiveTag else { throw InvariantBroken(description: "\(ref.normalized) re-parses as \(again.normalized)") }
    },
    Target(name: "bundle", tokens: ["{", "}", "\"", "null", "0", "\"AAAA\"", "\"mediaType\"", "\"tlogEntries\"", "\"inclusionProof\"", "\"hashes\"", "[]"]) { bytes in
        guard let bundle = try? SigstoreBundle(json: Data(bytes)) else { return }
        let root = try! TrustedRoot.publicGood()
        let policy = VerificationPolicy.identity(CertificateIdentity(issuer: .regex(".*"), subjectAlternativeName: .regex(".*")))
        _ = try? BundleVerifier(trustedRoot: root).verify(bundle: bundle, artifact: .bytes(Data("fuzz".utf8)), policy: policy, at: Date())
    },
    Target(name: "x509", tokens: ["\u{30}\u{82}", "\u{30}\u{80}", "\u{06}\u{03}", "\u{02}\u{01}\u{00}", "\u{a0}\u{03}", "\u{04}\u{00}", "\u{ff}\u{ff}\u{ff}\u{ff}"]) { bytes in
        _ = try? FulcioCertificate(der: Data(bytes))
    },
    Target(name: "dsse", tokens: ["{", "}", "\"", "\"payload\"", "\"signatures\"", "\"sig\"", "\"=\"", "null", "[]"]) { bytes in
        guard let envelope = try? DSSEEnvelope(json: Data(bytes)) else { return }
        _ = envelope.pae
        _ = try? InTotoStatement(json: envelope.payload)
    },
    Target(name: "manifest", tokens: ["{", "}", "\"", "\"manifests\"", "\"layers\"", "\"size\"", "-1", "1e30", "\"platform\"", "null", "[]"]) { bytes in
        let digest = "sha256:" + SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        _ = try? Manifest(bytes: bytes, digest: digest, contentType: nil)
        _ = try? Manifest(bytes: bytes, digest: digest, contentType: "application/vnd.oci.image.index.v1+json")
    },
    Target(name: "jmespath", tokens: ["[", "]", "{", "}", "(", ")", "|", "||", "&&", "!", "@", "&", "`", "'", "*", "?", ".", "-1:", "::-1", "==", "length(", "sort_by(", "`[]`"]) { bytes in
        guard let expression = try? JMESPath.compile(String(decoding: bytes, as: UTF8.self)) else { return }
        _ = try? expression.search(fixedDocument)
    },
    Target(name: "cue", tokens: ["{", "}", "[", "]", ":", "!", "=~", "<", ">=", "|", "&", "*", "\"", "#", "import \"strings\"\n", "string", "int", "_|_", "...", "\n"]) { bytes in
        guard let program = try? CUEProgram(compiling: String(decoding: bytes, as: UTF8.self)) else { return }
        _ = program.violations(of: fixedDocument)
    },
]

