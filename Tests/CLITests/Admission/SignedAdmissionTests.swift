import Crypto
import E2ESupport
import Foundation
import SigstoreTestSupport
import Testing
import TestSupport

/// The product end to end: a real docker-registry with images signed (key and keyless) and attested by
/// the test Sigstore, `sealgate serve` with ClusterImagePolicy and Kyverno policies and that trust root,
/// AdmissionReviews sent by Go's net/http over h2 as the API server sends them.
@Suite(.serialized)
struct SignedAdmissionTests {
    /// Everything one run needs: registry, signed images, policies, server.
    final class World: @unchecked Sendable {
        let e2e: E2EWorld
        let key = SigningKey.p256(P256.Signing.PrivateKey())
        let server: SealgateServer
        var digests: [String: String] = [:]
        var host: String { e2e.host }
        var dir: URL { e2e.dir }

        init() throws {
            let e2e = try E2EWorld("signed-e2e")
            self.e2e = e2e
            let keyed = e2e.keyed(key), keyless = e2e.keyless()
            var digests: [String: String] = [:]
            func push(_ repo: String) throws -> String {
                let digest = try e2e.pushImage(repo).digest
                digests[repo] = digest
                return digest
            }
            // Signed with the key: for the CIP key policy and the Kyverno key policy.
            for repo in ["key/app", "kyverno-key/app"] {
                try e2e.signer(repo).sign(digest: try push(repo), reference: e2e.ref(repo), options: keyed)
            }
            // Keyless, plus an SPDX SBOM and SLSA v1 provenance attestation.
            for repo in ["keyless/app", "attested/app", "kyverno-keyless/app"] {
                let digest = try push(repo)
                let s = e2e.signer(repo)
                try s.sign(digest: digest, reference: e2e.ref(repo), options: keyless)
                try s.attest(digest: digest, reference: e2e.ref(repo), predicateType: "https://spdx.dev/Document",
                             predicate: TestSigstore.spdxPredicate, options: keyless)
                try s.attest(digest: digest, reference: e2e.ref(repo), predicateType: "https://slsa.dev/provenance/v1",
                             predicate: TestSigstore.slsaV1Predicate, options: keyless)
            }
            // Keyless signed but without attestations; and plainly unsigned images.
            try e2e.signer("attested/bare").sign(digest: try push("attested/bare"), reference: e2e.ref("attested/bare"), options: keyless)
            for repo in ["keyless/unsigned", "key/unsigned", "kyverno-key/unsigned", "warned/unsigned", "blocked/app"] { _ = try push(repo) }
            self.digests = digests

            let policies = try e2e.write(World.policies(host: e2e.host, keyPEM: key.publicKeyPEM), to: "policies/all.yaml").deletingLastPathComponent()
            server = try e2e.serve(["--policy", policies.path] + e2e.trustFlags, tls: try e2e.issueCertificate(serial: 4004))
        }

        deinit { server.stop() }

        static func policies(host: String, keyPEM: String) -> String {
            let key = keyPEM.split(separator: "\n").map { "              " + $0 }.joined(separator: "\n")
            let kyvernoKey = keyPEM.split(separator: "\n").map { "                      " + $0 }.joined(separator: "\n")
            let subject = E2EWorld.subject, issuer = E2EWorld.issuer
            return """
            apiVersion: policy.sigstore.dev/v1beta1
            kind: ClusterImagePolicy
            metadata: {name: cip-key}
            spec:
              images: [{glob: "\(host)/key/**"}]
              authorities:
                - key:
                    data: |
            \(key)
            ---
            apiVersion: policy.sigstore.dev/v1beta1
            kind: ClusterImagePolicy
            metadata: {name: cip-keyless}
            spec:
              images: [{glob: "\(host)/keyless/**"}]
              authorities:
                - keyless:
                    url: https://fulcio.example
                    identities: [{issuer: "\(issuer)", subject: "\(subject)"}]
            ---
            apiVersion: policy.sigstore.dev/v1beta1
            kind: ClusterImagePolicy
            metadata: {name: cip-sbom-required}
            spec:
              images: [{glob: "\(host)/attested/**"}]
              authorities:
                - keyless:
                    url: https://fulcio.example
                    identities: [{issuer: "\(issuer)", subjectRegExp: "^https://github.com/sealgate/.*"}]
                  attestations:
                    - name: sbom
                      predicateType: spdxjson
                      policy:
                        type: cue
                        data: |
                          predicateType: "https://spdx.dev/Document"
            ---
            apiVersion: policy.sigstore.dev/v1beta1
            kind: ClusterImagePolicy
            metadata: {name: cip-warn}
            spec:
              mode: warn
              images: [{glob: "\(host)/warned/**"}]
              authorities:
                - keyless:
                    url: https://fulcio.example
                    identities: [{issuer: "\(issuer)", subject: "\(subject)"}]
            ---
            apiVersion: policy.sigstore.dev/v1beta1
            kind: ClusterImagePolicy
            metadata: {name: cip-blocked}
            spec:
              images: [{glob: "\(host)/blocked/**"}]
              authorities:
                - static: {action: fail, message: "this repository is frozen"}
            ---
            apiVersion: kyverno.io/v1
            kind: ClusterPolicy
            metadata: {name: kyverno-key}
            spec:
              validationFailureAction: Enforce
              webhookTimeoutSeconds: 10
              rules:
                - name: check-key
                  match:
                    any:
                      - resources: {kinds: [Pod]}
                  verifyImages:
                    - imageReferences: ["\(host)/kyverno-key/*"]
                      mutateDigest: true
                      attestors:
                        - entries:
                            - keys:
                                publicKeys: |-
            \(kyvernoKey)
            ---
            apiVersion: kyverno.io/v1
            kind: ClusterPolicy
            metadata: {name: kyverno-keyless-slsa}
            spec:
              validationFailureAction: Enforce
              rules:
                - name: check-provenance
                  match:
                    any:
                      - resources: {kinds: [Pod]}
                  verifyImages:
                    - imageReferences: ["\(host)/kyverno-keyless/*"]
                      attestors:
                        - entries:
                            - keyless:
                                subject: "\(subject)"
                                issuer: "\(issuer)"
                                rekor: {url: "https://rekor.example"}
                      attestations:
                        - type: https://slsa.dev/provenance/v1
                          attestors:
                            - entries:
                                - keyless:
                                    subject: "\(subject)"
                                    issuer: "\(issuer)"
                                    rekor: {url: "https://rekor.example"}
                          conditions:
                            - all:
                                - key: "{{ runDetails.builder.id }}"
                                  operator: Equals
                                  value: "https://github.com/sealgate/test/.github/workflows/release.yml@refs/heads/main"
                                - key: "{{ buildDefinition.externalParameters.workflow.repository }}"
                                  operator: Equals
                                  value: "https://github.com/sealgate/*"
            """
        }
    }

    static let world = Result { try World() }

    typealias Kind = AdmissionReviews.Kind

    /// An AdmissionReview of `kind` running `image` (in `list`), as the API server would send it.
    func review(_ world: World, kind: Kind = .pod, image: String, list: String = "containers", operation: String = "CREATE",
                oldImage: String? = nil, dryRun: Bool = false, subResource: String? = nil) throws -> (path: String, object: String) {
        func object(_ image: String) -> String {
            // The image under test goes into `list`; an ephemeral container sits beside a signed regular one.
            let spec = list == "containers" ? AdmissionReviews.podSpec([("main", image)])
                : AdmissionReviews.podSpec([("main", world.e2e.ref("key/app", ":v1"))], ephemeral: [("debug", image)])
            return AdmissionReviews.object(kind, spec: spec)
        }
        let obj = object(image)
        let json = AdmissionReviews.review(obj, kind: kind, operation: operation, dryRun: dryRun, oldObject: oldImage.map(object), subResource: subResource)
        return (try AdmissionReviews.write(json, in: world.dir), obj)
    }

    func send(_ world: World, _ review: String, mutate: Bool = false) throws -> [String: Any] {
        try world.e2e.decide(review, by: world.server, path: mutate ? "/mutate" : "/validate")
    }

    /// Applies the response's JSON patch to the object with Python's `jsonpatch` (an independent RFC 6902 implementation).
    func patched(_ object: String, _ response: [String: Any]) throws -> [String: Any] {
        guard let b64 = response["patch"] as? String else { return try JSONSerialization.jsonObject(with: Data(object.utf8)) as! [String: Any] }
        #expect(response["patchType"] as? String == "JSONPatch")
        let patch = String(decoding: Data(base64Encoded: b64)!, as: UTF8.self)
        let script = "import jsonpatch, json, sys; o = json.loads(sys.argv[1]); print(json.dumps(jsonpatch.apply_patch(o, json.loads(sys.argv[2]))))"
        let run = try Subprocess.run("python3", ["-c", script, object, patch])
        try #require(run.status == 0, "jsonpatch: \(run.stderr)")
        return try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
    }

    func images(_ object: [String: Any]) -> [String] {
        var spec = object["spec"] as? [String: Any]
        if let template = spec?["template"] as? [String: Any] { spec = template["spec"] as? [String: Any] }
        if let job = spec?["jobTemplate"] as? [String: Any] { spec = ((job["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any] }
        return ["containers", "ephemeralContainers"].flatMap { (spec?[$0] as? [[String: Any]] ?? []).compactMap { $0["image"] as? String } }
    }

    func message(_ response: [String: Any]) -> String { E2EWorld.message(response) }

    @Test("signed images are admitted and pinned to their digests (CIP key, CIP keyless, attestation, Kyverno key and keyless+conditions)")
    func admitted() throws {
        let world = try Self.world.get()
        let host = world.host
        for (repo, kind, pins) in [("key/app", Kind.deployment, true), ("keyless/app", .pod, true), ("attested/app", .cronJob, true),
                                   ("kyverno-key/app", .pod, true), ("kyverno-keyless/app", .pod, false)] {
            let image = "\(host)/\(repo):v1"
            let r = try review(world, kind: kind, image: image)
            let validate = try send(world, r.path)
            #expect(validate["allowed"] as? Bool == true, "\(repo): \(message(validate))")
            let mutate = try send(world, r.path, mutate: true)
            #expect(mutate["allowed"] as? Bool == true)
            // Kyverno's mutateDigest defaults to true, but that rule's images are not verified by a policy that pins: the keyless rule leaves it.
            let expected = pins ? "\(image)@\(world.digests[repo]!)" : image
            let after = try patched(r.object, mutate)
            if repo != "kyverno-keyless/app" { #expect(images(after) == [expected], "\(repo)") }
            // Kyverno-verified Pods carry Kyverno's kyverno.io/verify-images annotation.
            let annotation = ((after["metadata"] as? [String: Any])?["annotations"] as? [String: String])?["kyverno.io/verify-images"]
            if repo.hasPrefix("kyverno") && kind == .pod {
                #expect(annotation == #"{"\#(image)@\#(world.digests[repo]!)":"pass"}"#, "\(repo): \(String(describing: annotation))")
            } else {
                #expect(annotation == nil, "\(repo)")
            }
            // Already pinned: no patch, still admitted.
            let pinned = try review(world, kind: kind, image: "\(image)@\(world.digests[repo]!)")
            #expect(try images(patched(pinned.object, send(world, pinned.path, mutate: true))) == ["\(image)@\(world.digests[repo]!)"],
                    "a pinned image is left as it is")
            #expect(try send(world, pinned.path)["allowed"] as? Bool == true)
        }
    }

    @Test("each failing case is denied with a message naming the image, the policy and the failed check")
    func denied() throws {
        let world = try Self.world.get()
        let host = world.host
        let cases: [(String, Kind, String, [String])] = [
            ("keyless/unsigned", .cronJob, "containers", ["ClusterImagePolicy/cip-keyless", "no signature"]),
            ("key/unsigned", .deployment, "containers", ["ClusterImagePolicy/cip-key"]),
            ("attested/bare", .pod, "containers", ["ClusterImagePolicy/cip-sbom-required", "sbom"]),
            ("kyverno-key/unsigned", .pod, "containers", ["kyverno-key", "check-key"]),
            ("blocked/app", .pod, "containers", ["ClusterImagePolicy/cip-blocked", "this repository is frozen"]),
            ("keyless/unsigned", .pod, "ephemeralContainers", ["cip-keyless"]),
        ]
        for (repo, kind, list, needles) in cases {
            let image = "\(host)/\(repo):v1"
            let r = try review(world, kind: kind, image: image, list: list,
                               subResource: list == "ephemeralContainers" ? "ephemeralcontainers" : nil)
            let response = try send(world, r.path)
            #expect(response["allowed"] as? Bool == false, "\(repo) was admitted")
            let text = message(response)
            #expect(text.contains("image \(image)"), "\(text)")
            for needle in needles { #expect(text.lowercased().contains(needle.lowercased()), "\(repo): '\(needle)' missing in: \(text)") }
            // A failing image is never pinned (a signed neighbour may be).
            let after = try patched(r.object, try send(world, r.path, mutate: true))
            #expect(images(after).contains(image), "\(repo): \(images(after))")
        }
        // Same answer for dry runs; UPDATE that keeps the image is not re-checked; DELETE is not checked.
        let unsigned = "\(host)/keyless/unsigned:v1"
        #expect(try send(world, try review(world, image: unsigned, dryRun: true).path)["allowed"] as? Bool == false)
        #expect(try send(world, try review(world, image: unsigned, operation: "UPDATE", oldImage: unsigned).path)["allowed"] as? Bool == true)
        #expect(try send(world, try review(world, image: unsigned, operation: "UPDATE", oldImage: "\(host)/keyless/app:v1").path)["allowed"] as? Bool == false)
        #expect(try send(world, try review(world, image: unsigned, operation: "DELETE").path)["allowed"] as? Bool == true)
    }

    @Test("warn-mode policy: admitted with a warning naming the image")
    func warned() throws {
        let world = try Self.world.get()
        let image = "\(world.host)/warned/unsigned:v1"
        let response = try send(world, try review(world, image: image).path)
        #expect(response["allowed"] as? Bool == true)
        let warnings = response["warnings"] as? [String] ?? []
        #expect(warnings.contains { $0.contains(image) && $0.contains("cip-warn") }, "\(warnings)")
    }
}

extension SignedAdmissionTests {
    @Test("metrics: decisions, per-policy verdicts, verification latency, registry calls and cache hits")
    func metrics() throws {
        let world = try Self.world.get()
        // Twice: the second time the tag and signatures come from the cache.
        for _ in 0..<2 { _ = try send(world, try review(world, image: "\(world.host)/keyless/app:v1").path) }
        let text = try world.e2e.curl(world.server, "/metrics")
        for needle in [#"sealgate_policy_verdicts_total{policy="ClusterImagePolicy/cip-keyless",decision="pass",transient="false"}"#,
                       #"sealgate_admission_decisions_total{webhook="validate",result="allowed",mode="enforce"}"#,
                       "sealgate_image_verification_seconds_count", #"sealgate_registry_requests_total{registry="\#(world.host)",result="200"}"#,
                       #"sealgate_registry_cache_hits_total{cache="tags"}"#] {
            #expect(text.contains(needle), "missing \(needle)")
        }
        let hits = text.split(separator: "\n").first { $0.hasPrefix(#"sealgate_registry_cache_hits_total{cache="tags"}"#) }
        #expect((hits?.split(separator: " ").last.flatMap { Double($0) } ?? 0) >= 1, "\(String(describing: hits))")
    }
}
