import E2ESupport
import Foundation
import Registry
import Testing
import TestSupport

/// Authorities that read the same signature share what it took to fetch: one GET per manifest and blob per decision.
@Suite(.serialized)
struct AttachmentFetchTests {
    @Test("two authorities checking the same signature: one GET of the signature manifest and of each layer blob")
    func twoAuthoritiesOneFetch() throws {
        let world = try E2EWorld("attachments", registry: .plain(accessLog: true))
        defer { world.stop() }
        let registry = world.registry!
        let digest = try world.pushSigned("shared/app")
        // The first authority reads the signature and rejects its identity; the second reads the same one and accepts it.
        let policy = try world.write("""
        apiVersion: policy.sigstore.dev/v1beta1
        kind: ClusterImagePolicy
        metadata: {name: two-authorities}
        spec:
          images: [{glob: "\(registry.host)/shared/**"}]
          authorities:
            - name: someone-else
              keyless:
                url: https://fulcio.example
                identities: [{issuer: "\(E2EWorld.issuer)", subjectRegExp: "^https://github.com/someone-else/"}]
            - name: release
              keyless:
                url: https://fulcio.example
                identities: [{issuer: "\(E2EWorld.issuer)", subjectRegExp: "^https://github.com/sealgate/"}]
        """, to: "policy.yaml")
        let manifest = """
        apiVersion: v1
        kind: Pod
        metadata: {name: p, namespace: ns}
        spec: {containers: [{name: c, image: "\(registry.host)/shared/app:v1"}]}
        """
        let mark = registry.requests().count
        let run = try world.sealgate(["explain", "-", "-o", "json", "--policy", policy.path] + world.trustFlags, stdin: Data(manifest.utf8), timeout: 60)
        #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
        // Both authorities were checked: the first failed on the identity, the second passed.
        #expect(run.stdout.contains("someone-else") && run.stdout.contains("\"step\" : \"identity\""), "\(run.stdout)")
        let requests = Array(registry.requests().dropFirst(mark)).filter { $0.hasPrefix("GET ") }
        let signatureTag = RegistryClient.cosignTag(for: digest, .signature)
        let manifestGets = requests.filter { $0.contains("/manifests/\(signatureTag)") }
        #expect(manifestGets.count == 1, "\(requests)")
        let blobGets = requests.filter { $0.contains("/blobs/") }
        #expect(!blobGets.isEmpty, "\(requests)")
        #expect(Set(blobGets).count == blobGets.count, "a blob was fetched twice: \(blobGets)")
    }
}
