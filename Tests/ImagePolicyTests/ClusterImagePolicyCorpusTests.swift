import Foundation
import Testing
@testable import ImagePolicy

/// Field paths named by an `# ERROR:` comment (e.g. `spec.authorities[0].key.data`, `keyless.identities`).
func errorFieldPaths(_ text: String) -> [String] {
    let lines = text.split(separator: "\n").filter { $0.hasPrefix("# ERROR:") }
    let re = /[A-Za-z][\w-]*(?:\[\d+\])?(?:\.[A-Za-z][\w-]*(?:\[\d+\])?)+/
    return lines.flatMap { line in line.matches(of: re).map { String($0.output) } }
}

@Suite struct ClusterImagePolicyCorpus {
    static let validFiles = Paths.files(Paths.policyController.appendingPathComponent("valid"))
    static let invalidFiles = Paths.files(Paths.policyController.appendingPathComponent("invalid"))
    static let exampleFiles = Paths.files(Paths.policyController.appendingPathComponent("examples"))

    @Test func corpusIsPresent() {
        #expect(Self.validFiles.count >= 10)
        #expect(Self.invalidFiles.count >= 20)
    }

    @Test(arguments: validFiles + exampleFiles)
    func validFileLoads(_ url: URL) {
        let r = PolicyLoader.load(paths: [url.path])
        #expect(!r.hasErrors, "\(url.lastPathComponent):\n\(errorText(r))")
        #expect(r.policies.clusterImagePolicies.count == 1)
    }

    @Test(arguments: invalidFiles)
    func invalidFileFailsNamingTheField(_ url: URL) throws {
        let text = try Paths.text(url)
        let r = PolicyLoader.load(paths: [url.path])
        #expect(r.hasErrors, "\(url.lastPathComponent) was accepted")
        #expect(r.policies.clusterImagePolicies.isEmpty)
        let fields = errorFieldPaths(text)
        #expect(!fields.isEmpty, "no field path in the ERROR comment of \(url.lastPathComponent)")
        let rendered = r.errors.map { $0.description.lowercased() }
        for field in fields {
            #expect(rendered.contains { $0.contains(field.lowercased()) },
                    "\(url.lastPathComponent): no error names \(field); got:\n\(errorText(r))")
        }
        // Every error carries file, document index and a field path.
        for e in r.errors {
            #expect(e.file == url.path)
            #expect(e.documentIndex == 0)
            #expect(!e.path.isEmpty)
        }
    }

    @Test func errorFormatMatchesBrief() {
        let r = load("""
        apiVersion: policy.sigstore.dev/v1alpha1
        kind: ClusterImagePolicy
        metadata: {name: p}
        spec:
          images: [{glob: "["}]
          authorities: [{static: {action: pass}}]
        """)
        #expect(r.errors.map(\.description) == [
            "test.yaml: document 0: spec.images[0].glob: invalid glob \"[\": character \"[\" is not allowed; a glob may contain only letters, digits and - _ : / * . @",
        ])
    }

    @Test("a YAML syntax error is an error, never a silent end of the file (documents after it must not vanish)")
    func syntaxErrorAfterValidDocument() {
        let yaml = """
        apiVersion: policy.sigstore.dev/v1beta1
        kind: ClusterImagePolicy
        metadata: {name: first}
        spec:
          images: [{glob: "a.example/**"}]
          authorities: [{static: {action: pass}}]
        ---
        apiVersion: policy.sigstore.dev/v1beta1
        kind: ClusterImagePolicy
        metadata: [unclosed
        ---
        apiVersion: policy.sigstore.dev/v1beta1
        kind: ClusterImagePolicy
        metadata: {name: deny-everything}
        spec:
          images: [{glob: "**"}]
          authorities: [{static: {action: fail}}]
        """
        let result = load(yaml)
        #expect(result.hasErrors)
        #expect(errorText(result).contains("YAML syntax error"), "\(errorText(result))")
        #expect(errorText(result).contains("test.yaml"), "\(errorText(result))")
    }

    @Test func unknownFieldsAndKindsAreErrors() {
        let r = load("""
        apiVersion: policy.sigstore.dev/v1beta1
        kind: ClusterImagePolicy
        metadata: {name: p}
        spec:
          images: [{glob: "**", regex: "x"}]
          authorities: [{static: {action: pass}, colour: blue}]
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: c}
        """)
        let text = errorText(r)
        #expect(text.contains("document 0: spec.images[0].regex: unknown field \"regex\""))
        #expect(text.contains("document 0: spec.authorities[0].colour: unknown field \"colour\""))
        #expect(text.contains("document 1: kind: unsupported kind \"ConfigMap\""))
    }

    @Test func regoIsRejectedAtLoadTime() {
        let r = load("""
        apiVersion: policy.sigstore.dev/v1beta1
        kind: ClusterImagePolicy
        metadata: {name: p}
        spec:
          images: [{glob: "**"}]
          authorities:
          - key: {secretRef: {name: k}}
            attestations:
            - name: a
              predicateType: vuln
              policy: {type: rego, data: "package x"}
        """)
        #expect(errorText(r).contains("spec.authorities[0].attestations[0].policy.type: rego policies are not supported"))
    }

    @Test func badCUEIsRejectedAtLoadTime() {
        let r = load("""
        apiVersion: policy.sigstore.dev/v1alpha1
        kind: ClusterImagePolicy
        metadata: {name: p}
        spec:
          images: [{glob: "**"}]
          authorities:
          - keyless: {url: "https://fulcio.sigstore.dev", identities: [{issuer: i, subject: s}]}
            attestations:
            - name: a
              predicateType: custom
              policy:
                type: cue
                data: |
                  import "strings"
                  predicate: strings.HasPrefix("x")
        """)
        #expect(errorText(r).contains("spec.authorities[0].attestations[0].policy.data: invalid CUE policy: line 1 column 8: import \"strings\" is not supported"))
    }

    @Test func staticWithAttestationsAndBadActionAreErrors() {
        let r = load("""
        apiVersion: policy.sigstore.dev/v1beta1
        kind: ClusterImagePolicy
        metadata: {name: p}
        spec:
          images: [{glob: "**"}]
          match: [{resource: widgets}]
          authorities:
          - static: {action: maybe}
          - static: {action: fail}
            ctlog: {url: "https://rekor.sigstore.dev"}
        """)
        let text = errorText(r)
        #expect(text.contains("spec.authorities[0].static.action: invalid value: maybe"))
        #expect(text.contains("expected exactly one, got both: spec.authorities[1].static, spec.authorities[1].ctlog"))
        #expect(text.contains("spec.match[0].resource: invalid value: widgets"))
    }

    @Test func kmsLoadsWithWarningAndStrictMessage() {
        let r = load("""
        apiVersion: policy.sigstore.dev/v1beta1
        kind: ClusterImagePolicy
        metadata: {name: p}
        spec:
          images: [{glob: "**"}]
          authorities: [{key: {kms: "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k"}}]
        """)
        #expect(!r.hasErrors)
        #expect(r.warnings.map(\.description).contains { $0.contains("spec.authorities[0].key.kms: warning: KMS not supported") })
    }

    @Test func multiDocumentIndexesAndJSON() {
        let r = load("""
        ---
        apiVersion: policy.sigstore.dev/v1alpha1
        kind: ClusterImagePolicy
        metadata: {name: one}
        spec: {images: [{glob: "**"}], authorities: [{static: {action: pass}}]}
        ---
        {"apiVersion": "policy.sigstore.dev/v1alpha1", "kind": "ClusterImagePolicy", "metadata": {"name": "two"},
         "spec": {"images": [{"glob": "ghcr.io/**"}], "authorities": [{"static": {"action": "fail"}}], "mode": "warn"}}
        ---
        apiVersion: policy.sigstore.dev/v1alpha1
        kind: ClusterImagePolicy
        metadata: {name: three}
        spec: {images: [], authorities: [{static: {action: pass}}]}
        """)
        #expect(r.policies.clusterImagePolicies.map(\.name) == ["one", "two"])
        #expect(r.policies.clusterImagePolicies[1].mode == .warn)
        #expect(r.errors.map(\.description) == ["test.yaml: document 2: spec.images: missing field(s): spec.images"])
    }
}

@Test func fetchConfigFileIsRejected() {
    let r = load("""
    apiVersion: policy.sigstore.dev/v1beta1
    kind: ClusterImagePolicy
    metadata: {name: p}
    spec:
      images: [{glob: "**"}]
      authorities: [{static: {action: pass}}]
      policy:
        type: cue
        fetchConfigFile: true
        data: 'config: "linux/amd64": config: User: "65530"'
    """)
    #expect(errorText(r) == "test.yaml: document 0: spec.policy.fetchConfigFile: fetchConfigFile is not supported: sealgate does not fetch image config files")
}
