import Foundation
import Testing
import TestSupport
@testable import ImagePolicy

/// TrustRoot documents in policy files: policy-controller's validation of `sigstoreKeys`, `remote` and `repository`.
@Suite struct TrustRootTests {
    static let pem = Data("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8).base64EncodedString()
    static let keyPEM = Data("-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n".utf8).base64EncodedString()

    static func trustRoot(_ spec: String, name: String = "private") -> String {
        "apiVersion: policy.sigstore.dev/v1alpha1\nkind: TrustRoot\nmetadata: {name: \(name)}\nspec:\n\(spec)"
    }

    static var sigstoreKeys: String {
        """
          sigstoreKeys:
            certificateAuthorities:
              - {subject: {organization: o, commonName: c}, uri: "https://fulcio.example", certChain: "\(pem)"}
            tLogs:
              - {baseURL: "https://rekor.example", hashAlgorithm: sha-256, publicKey: "\(keyPEM)"}
        """
    }

    @Test func githubAttestationsFileLoadsAsWritten() throws {
        let file = TestPaths.sharedTestdata.appendingPathComponent("github-attestations/trust-policies.yaml")
        try #require(FileManager.default.fileExists(atPath: file.path), "missing upstream test data \(file.path)")
        let r = PolicyLoader.load(paths: [file.path])
        #expect(r.errors.isEmpty, "\(errorText(r))")
        #expect(r.policies.clusterImagePolicies.map(\.name) == ["github-policy"])
        let root = try #require(r.policies.trustRoots.first)
        #expect(r.warnings.isEmpty, "\(r.warnings)")
        guard root.name == "github", case .tuf(let tuf) = root.material else { Issue.record("remote TrustRoot expected: \(root)"); return }
        #expect(tuf.location == .mirror("https://tuf-repo.github.com/") && tuf.targets == "targets" && tuf.trustedRootTarget == "trusted_root.json")
        let rootData = try #require(Data(base64Encoded: tuf.root))
        let rootJSON = try JSONSerialization.jsonObject(with: rootData) as? [String: Any]
        #expect((rootJSON?["signed"] as? [String: Any])?["_type"] as? String == "root")

        let authorities = r.policies.clusterImagePolicies[0].authorities
        guard case .signature(let github) = authorities[0].kind, case .signature(let publicGood) = authorities[1].kind else {
            Issue.record("expected signature authorities"); return
        }
        // github: bundle format, TSA from the TrustRoot instead of Rekor, no SCT.
        #expect(github.signatureFormat == "bundle" && github.timestampTrustRootRef == "github")
        #expect(github.tlog.ignore && github.ignoreSCT)
        guard case .keyless(let k) = github.trust else { Issue.record("keyless expected"); return }
        #expect(k.trustRootRef == "github" && k.fulcioURL == "https://fulcio.githubapp.com")
        // public-good: bundle format, Rekor required (ctlog.url).
        #expect(publicGood.signatureFormat == "bundle" && !publicGood.tlog.ignore && publicGood.tlog.url == "https://rekor.sigstore.dev")
        #expect(publicGood.timestampTrustRootRef == nil)
        #expect(authorities.allSatisfy { $0.attestations.map(\.predicateTypeURI) == ["https://slsa.dev/provenance/v1"] })
    }

    @Test func sigstoreKeysLoad() throws {
        let r = load(Self.trustRoot(Self.sigstoreKeys))
        #expect(r.issues.isEmpty, "\(r.issues)")
        let root = try #require(r.policies.trustRoots.first)
        guard case .sigstoreKeys(let keys) = root.material else { Issue.record("sigstoreKeys expected"); return }
        #expect(keys["tLogs"]?.arrayValue?.first?["baseURL"]?.stringValue == "https://rekor.example")
    }

    @Test(arguments: [
        ("  remote: {mirror: https://tuf.example}\n  repository: {mirrorFS: x}", "spec: expected exactly one, got both: spec.sigstoreKeys, spec.remote, spec.repository"),
        ("  {}", "spec: expected exactly one, got neither"),
        ("  remote: {root: e30=}", "spec.remote.mirror: missing field(s)"),
        ("  remote: {mirror: https://tuf.example}", "spec.remote.root: missing field(s): spec.remote.root (the initial TUF root.json, base64)"),
        ("  remote: {mirror: https://tuf.example, root: \"not base64!\"}", "spec.remote.root: invalid value: spec.remote.root: not base64-encoded JSON"),
        ("  remote: {mirror: tuf.example, root: e30=}", "spec.remote.mirror: invalid value: tuf.example: spec.remote.mirror must be an http or https URL"),
        ("  repository: {root: e30=}", "spec.repository.mirrorFS: missing field(s)"),
        ("  sigstoreKeys: {tLogs: []}", "spec.sigstoreKeys: expected exactly one, got neither: spec.sigstoreKeys.certificateAuthorities, spec.sigstoreKeys.timestampAuthorities"),
        ("  sigstoreKeys:\n    certificateAuthorities: [{uri: u, certChain: \"\(pem)\"}]", "spec.sigstoreKeys.certificateAuthorities[0].subject: missing field(s)"),
        ("  sigstoreKeys:\n    certificateAuthorities: [{subject: {organization: o, commonName: c}, uri: u, certChain: \"not pem\"}]",
         "spec.sigstoreKeys.certificateAuthorities[0].certChain: invalid value: spec.sigstoreKeys.certificateAuthorities[0].certChain: not base64-encoded PEM"),
        ("  sigstoreKeys:\n    timestampAuthorities: [{subject: {organization: o, commonName: c}, uri: u, certChain: \"\(pem)\"}]\n    tLogs: [{baseURL: b, publicKey: \"\(keyPEM)\"}]",
         "spec.sigstoreKeys.tLogs[0].hashAlgorithm: missing field(s)"),
        ("  sigstoreKeys:\n    certificateAuthorities: [{subject: {organization: o, commonName: c}, uri: u, certChain: \"\(pem)\", extra: 1}]",
         "spec.sigstoreKeys.certificateAuthorities[0].extra: unknown field"),
    ])
    func invalidTrustRootsNameTheField(spec: String, message: String) {
        let r = load(Self.trustRoot(spec))
        #expect(r.policies.trustRoots.isEmpty)
        #expect(errorText(r).contains(message), "\(errorText(r))")
    }

    @Test func aNameDefinedTwiceIsAnError() throws {
        let dir = try makeTemporaryDirectory("trustroots")
        for file in ["a.yaml", "b.yaml"] {
            try Self.trustRoot(Self.sigstoreKeys).write(to: dir.appendingPathComponent(file), atomically: true, encoding: .utf8)
        }
        let r = PolicyLoader.load(paths: [dir.path])
        #expect(errorText(r).contains("b.yaml: document 0: metadata.name: TrustRoot \"private\" is already defined in \(dir.path)/a.yaml: document 0"),
                "\(errorText(r))")
    }

    @Test func onlyV1alpha1() {
        let r = load(Self.trustRoot(Self.sigstoreKeys).replacingOccurrences(of: "v1alpha1", with: "v1beta1"))
        #expect(errorText(r).contains("unsupported apiVersion \"policy.sigstore.dev/v1beta1\" for TrustRoot"))
    }
}
