import Admission
import Foundation
import ImagePolicy
import ImageReference
import Logging
import TestSupport
import Testing

/// docs/INSTALL.md shows users what a denial looks like: the decider must say exactly that.
struct DocumentedDenialTests {
    static let digest = "sha256:" + String(repeating: "ab", count: 32)
    static let found = "https://github.com/example-org/api/.github/workflows/dev.yml@refs/heads/main"
    static let wanted = "https://github.com/example-org/api/.github/workflows/release.yml@refs/tags/v1.4.0"

    struct Resolver: DigestResolver {
        func digest(of image: ImageRef, deadline: Deadline) async throws -> String { DocumentedDenialTests.digest }
    }

    /// What CosignAuthorityVerifier answers for a signature by another workflow (its summary and step).
    struct WrongSigner: AuthorityVerifier {
        func verifySignature(image: ImageRef, digest: String, authority: SignatureAuthority) async -> AuthorityOutcome {
            .fail("no signature verified for \(image.name)@\(digest): signature 1 (tag sha256-\(digest.dropFirst(7)).sig layer 0): "
                + "certificate identity '\(DocumentedDenialTests.found)' does not match expected '\(DocumentedDenialTests.wanted)'", step: .identity)
        }
        func verifyAttestations(image: ImageRef, digest: String, authority: SignatureAuthority?, predicateType: String) async -> AuthorityOutcome {
            .fail("unused")
        }
    }

    @Test("the sample denial in docs/INSTALL.md is the decider's message, digests elided")
    func installGuideDenialMatches() async throws {
        let doc = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("docs/INSTALL.md"), encoding: .utf8)
        let marker = "A denial is returned by the API server as:\n\n```text\n"
        let start = try #require(doc.range(of: marker), "INSTALL.md has no sample denial").upperBound
        let block = String(doc[start...]).components(separatedBy: "\n```")[0]
        let prefix = "Error from server (Forbidden): admission webhook \"validate.sealgate.dev\" denied the request: "
        #expect(block.hasPrefix(prefix), "\(block)")

        let policy = """
        apiVersion: policy.sigstore.dev/v1beta1
        kind: ClusterImagePolicy
        metadata:
          name: example-org-api-signed-by-release-workflow
        spec:
          images: [{glob: "ghcr.io/example-org/**"}]
          authorities:
            - name: release-workflow
              keyless:
                identities: [{issuer: "https://token.actions.githubusercontent.com", subject: "\(Self.wanted)"}]
        """
        let decider = PolicyDecider(store: PolicyStore(policies: try PolicyLoader.load(text: policy, file: "p.yaml").get()),
                                    resolver: Resolver(), verifier: WrongSigner(), settings: AdmissionSettings(), logger: Logger(label: "test"))
        let json = #"{"uid":"u1","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"demo","operation":"CREATE","object":{"metadata":{"name":"unsigned","namespace":"demo"},"spec":{"containers":[{"name":"c","image":"ghcr.io/example-org/api:dev"}]}}}"#
        let response = await decider.decideAsync(try JSONDecoder().decode(AdmissionRequest.self, from: Data(json.utf8)), mutating: false, timeout: 10)
        #expect(response.status?.code == 403, "kubectl prints 403 as Forbidden")
        let message = (response.status?.message ?? "").replacingOccurrences(of: Self.digest, with: "sha256:…")
            .replacingOccurrences(of: "sha256-" + Self.digest.dropFirst(7), with: "sha256-…")
        #expect(prefix + message == block)
    }
}
