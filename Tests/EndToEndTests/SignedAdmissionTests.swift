import Crypto
import Foundation
import Registry
import RegistryTestSupport
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
        let registry: LocalRegistry
        let client: RegistryClient
        let sigstore = TestSigstore()
        let key = SigningKey.p256(P256.Signing.PrivateKey())
        let pki: TestPKI
        var server: SealgateServer!
        let dir: URL
        var digests: [String: String] = [:]

        init() throws {
            registry = try LocalRegistry()
            client = try registry.client()
            dir = try makeTemporaryDirectory("signed-e2e")
            pki = try TestPKI()
            let now = Date()
            func push(_ repo: String) throws -> String {
                let image = try TestImages.pushImage(client, registry: registry.host, repository: repo, tag: "v1")
                digests[repo] = image.digest
                return image.digest
            }
            func signer(_ repo: String) -> CosignImageSigner {
                let sink = TestImages.cosignSink(client, registry: registry.host, repository: repo)
                return CosignImageSigner(sigstore: sigstore, appendTagLayers: sink.appendTagLayers, pushReferrer: sink.pushReferrer)
            }
            var keyed = sigstore.options(at: now)
            keyed.keyless = false
            keyed.signingKey = key
            let keyless = sigstore.options(at: now)
            // Signed with the key: for the CIP key policy and the Kyverno key policy.
            for repo in ["key/app", "kyverno-key/app"] {
                try signer(repo).sign(digest: try push(repo), reference: "\(registry.host)/\(repo)", options: keyed)
            }
            // Keyless, plus an SPDX SBOM and SLSA v1 provenance attestation.
            for repo in ["keyless/app", "attested/app", "kyverno-keyless/app"] {
                let digest = try push(repo)
                let s = signer(repo)
                try s.sign(digest: digest, reference: "\(registry.host)/\(repo)", options: keyless)
                try s.attest(digest: digest, reference: "\(registry.host)/\(repo)", predicateType: "https://spdx.dev/Document",
                             predicate: TestSigstore.spdxPredicate, options: keyless)
                try s.attest(digest: digest, reference: "\(registry.host)/\(repo)", predicateType: "https://slsa.dev/provenance/v1",
                             predicate: TestSigstore.slsaV1Predicate, options: keyless)
            }
            // Keyless signed but without attestations; and plainly unsigned images.
            try signer("attested/bare").sign(digest: try push("attested/bare"), reference: "\(registry.host)/attested/bare", options: keyless)
            for repo in ["keyless/unsigned", "key/unsigned", "kyverno-key/unsigned", "warned/unsigned", "blocked/app"] { _ = try push(repo) }

            let root = dir.appendingPathComponent("trusted_root.json")
            try sigstore.trustedRootJSON().write(to: root)
            let policies = dir.appendingPathComponent("policies")
            try FileManager.default.createDirectory(at: policies, withIntermediateDirectories: true)
            try World.policies(host: registry.host, keyPEM: key.publicKeyPEM).write(to: policies.appendingPathComponent("all.yaml"), atomically: true, encoding: .utf8)
            let cert = try pki.issueServerCertificate(name: "server", serial: 4004)
            server = try SealgateServer(arguments: ["--tls-cert", cert.certificate, "--tls-key", cert.key, "--policy", policies.path,
                                                   "--trusted-root", root.path, "--insecure-registry", registry.host],
                                        environment: ["HOME": dir.path], directory: dir.path)
        }

        deinit {
            server?.stop()
            registry.stop()
        }

        static func policies(host: String, keyPEM: String) -> String {
            let key = keyPEM.split(separator: "\n").map { "              " + $0 }.joined(separator: "\n")
            let kyvernoKey = keyPEM.split(separator: "\n").map { "                      " + $0 }.joined(separator: "\n")
            let identity = TestIdentity.githubWorkflow
            guard case .uri(let subject) = identity.san else { return "" }
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
                    identities: [{issuer: "\(identity.issuer)", subject: "\(subject)"}]
            ---
            apiVersion: policy.sigstore.dev/v1beta1
            kind: ClusterImagePolicy
            metadata: {name: cip-sbom-required}
            spec:
              images: [{glob: "\(host)/attested/**"}]
              authorities:
                - keyless:
                    url: https://fulcio.example
                    identities: [{issuer: "\(identity.issuer)", subjectRegExp: "^https://github.com/sealgate/.*"}]
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
                    identities: [{issuer: "\(identity.issuer)", subject: "\(subject)"}]
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
                                issuer: "\(identity.issuer)"
                                rekor: {url: "https://rekor.example"}
                      attestations:
                        - type: https://slsa.dev/provenance/v1
                          attestors:
                            - entries:
                                - keyless:
                                    subject: "\(subject)"
                                    issuer: "\(identity.issuer)"
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

    enum Kind: String { case pod = "Pod", deployment = "Deployment", cronJob = "CronJob" }

    /// An AdmissionReview of `kind` running `image` (in `list`), as the API server would send it.
    func review(_ world: World, kind: Kind = .pod, image: String, list: String = "containers", operation: String = "CREATE",
                oldImage: String? = nil, dryRun: Bool = false, subResource: String? = nil) throws -> (path: String, object: String) {
        func object(_ image: String) -> String {
            // The image under test goes into `list`; an ephemeral container sits beside a signed regular one.
            let main = list == "containers" ? image : "\(world.registry.host)/key/app:v1"
            var spec = #"{"containers":[{"name":"main","image":"\#(main)"}]"#
            if list != "containers" { spec += #","\#(list)":[{"name":"debug","image":"\#(image)"}]"# }
            spec += "}"
            switch kind {
            case .pod: return #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"shop"},"spec":\#(spec)}"#
            case .deployment: return #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop"},"spec":{"template":{"spec":\#(spec)}}}"#
            case .cronJob: return #"{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"web","namespace":"shop"},"spec":{"jobTemplate":{"spec":{"template":{"spec":\#(spec)}}}}}"#
            }
        }
        let group = kind == .pod ? "" : (kind == .deployment ? "apps" : "batch")
        let resource = kind == .pod ? "pods" : (kind == .deployment ? "deployments" : "cronjobs")
        let obj = object(image)
        let old = oldImage.map { #","oldObject":\#(object($0))"# } ?? ""
        let sub = subResource.map { #","subResource":"\#($0)""# } ?? ""
        let json = #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"\#(UUID().uuidString)","kind":{"group":"\#(group)","version":"v1","kind":"\#(kind.rawValue)"},"resource":{"group":"\#(group)","version":"v1","resource":"\#(resource)"}\#(sub),"namespace":"shop","operation":"\#(operation)","dryRun":\#(dryRun),"object":\#(obj)\#(old)}}"#
        let path = world.dir.appendingPathComponent("review-\(UUID().uuidString).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, obj)
    }

    func send(_ world: World, _ review: String, mutate: Bool = false) throws -> [String: Any] {
        let summary = try GoClient.send(url: "https://localhost:\(world.server.port)/\(mutate ? "mutate" : "validate")",
                                        caFile: world.pki.caCertificate, body: review, timeout: "10s")
        let body = try #require((summary["bodies"] as? [Any])?.first as? [String: Any], "\(summary)")
        return try #require(body["response"] as? [String: Any])
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

    func message(_ response: [String: Any]) -> String { (response["status"] as? [String: Any])?["message"] as? String ?? "" }

    @Test("signed images are admitted and pinned to their digests (CIP key, CIP keyless, attestation, Kyverno key and keyless+conditions)")
    func admitted() throws {
        let world = try Self.world.get()
        let host = world.registry.host
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
        let host = world.registry.host
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
        let image = "\(world.registry.host)/warned/unsigned:v1"
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
        for _ in 0..<2 { _ = try send(world, try review(world, image: "\(world.registry.host)/keyless/app:v1").path) }
        let text = try Subprocess.run("curl", ["-s", "--cacert", world.pki.caCertificate, "--connect-to", "localhost::127.0.0.1:",
                                               "https://localhost:\(world.server.port)/metrics"]).stdout
        for needle in [#"sealgate_policy_verdicts_total{policy="ClusterImagePolicy/cip-keyless",decision="pass",transient="false"}"#,
                       #"sealgate_admission_decisions_total{webhook="validate",result="allowed",mode="enforce"}"#,
                       "sealgate_image_verification_seconds_count", #"sealgate_registry_requests_total{registry="\#(world.registry.host)",result="200"}"#,
                       #"sealgate_registry_cache_hits_total{cache="tags"}"#] {
            #expect(text.contains(needle), "missing \(needle)")
        }
        let hits = text.split(separator: "\n").first { $0.hasPrefix(#"sealgate_registry_cache_hits_total{cache="tags"}"#) }
        #expect((hits?.split(separator: " ").last.flatMap { Double($0) } ?? 0) >= 1, "\(String(describing: hits))")
    }
}
