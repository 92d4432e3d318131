import Crypto
import E2ESupport
import Foundation
import RegistryTestSupport
import SigstoreTestSupport
import Testing
import TestSupport

/// Docker Content Trust end to end: a real docker-registry, a real notary-server and notary-signer over TLS with the
/// images' digests signed by the `notary` CLI, and `sealgate serve --policy` with a Connaisseur configuration.
/// Also `sealgate verify --notary-server`, and a Connaisseur cosign validator against the equivalent ClusterImagePolicy.
@Suite(.serialized)
struct NotaryAdmissionTests {
    final class World: @unchecked Sendable {
        let e2e: E2EWorld
        let notary: NotaryService
        let rootPEM: String
        let cosignKey = SigningKey.newP256()
        var digests: [String: String] = [:]
        var host: String { e2e.host }

        init() throws {
            let e2e = try E2EWorld("notary-e2e")
            let notary = try NotaryService(pki: e2e.pki)
            self.e2e = e2e
            self.notary = notary
            var digests: [String: String] = [:]
            func gun(_ repo: String) -> String { "\(e2e.host)/\(repo)" }
            // dct/app: v1 signed; moved signed, then re-pointed; unsigned never signed; late signed (for the outage).
            for repo in ["dct/app", "dct/released"] { try notary.initialize(gun: gun(repo)) }
            for tag in ["v1", "moved", "late"] {
                let image = try e2e.pushImage("dct/app", tag: tag)
                digests["dct/app:\(tag)"] = image.digest
                try notary.sign(gun: gun("dct/app"), tag: tag, digest: image.digest, size: image.manifestBytes.count)
            }
            digests["dct/app:moved-signed"] = digests["dct/app:moved"]
            digests["dct/app:moved"] = try e2e.pushImage("dct/app", tag: "moved").digest
            digests["dct/app:unsigned"] = try e2e.pushImage("dct/app", tag: "unsigned").digest
            // dct/released: v1 signed by the targets key only, v2 by the releases delegation.
            try notary.addDelegation(gun: gun("dct/released"), role: "targets/releases")
            let v1 = try e2e.pushImage("dct/released", tag: "v1"), v2 = try e2e.pushImage("dct/released", tag: "v2")
            try notary.sign(gun: gun("dct/released"), tag: "v1", digest: v1.digest, size: v1.manifestBytes.count)
            try notary.sign(gun: gun("dct/released"), tag: "v2", digest: v2.digest, size: v2.manifestBytes.count, role: "targets/releases")
            digests["dct/released:v1"] = v1.digest
            digests["dct/released:v2"] = v2.digest
            // cosign/app signed with the key (no transparency log), cosign/unsigned not.
            let signed = try e2e.pushImage("cosign/app")
            try e2e.signer("cosign/app").sign(digest: signed.digest, reference: e2e.ref("cosign/app"), options: e2e.keyed(cosignKey, tlog: false))
            digests["cosign/app:v1"] = signed.digest
            digests["cosign/unsigned:v1"] = try e2e.pushImage("cosign/unsigned").digest
            self.digests = digests
            rootPEM = try notary.rootPublicKeyPEM()
        }
        deinit { notary.stop(); e2e.stop() }

        static func indent(_ pem: String, _ n: Int) -> String {
            pem.split(separator: "\n").map { String(repeating: " ", count: n) + $0 }.joined(separator: "\n")
        }

        var connaisseur: String {
            let ca = (try? String(contentsOfFile: notary.caFile, encoding: .utf8)) ?? ""
            return """
            application:
              validators:
                - name: deny
                  type: static
                  approve: false
                - name: allow
                  type: static
                  approve: true
                - name: dct
                  type: notaryv1
                  host: 127.0.0.1:\(notary.port)
                  cert: |
            \(Self.indent(ca, 8))
                  trustRoots:
                    - name: default
                      key: |
            \(Self.indent(rootPEM, 12))
                - name: signers
                  type: cosign
                  trustRoots:
                    - name: team
                      key: |
            \(Self.indent(cosignKey.publicKeyPEM, 12))
              policy:
                - pattern: "*:*"
                  validator: deny
                - pattern: "\(host)/dct/*:*"
                  validator: dct
                - pattern: "\(host)/dct/released:*"
                  validator: dct
                  with:
                    delegations: [releases]
                - pattern: "\(host)/cosign/*:*"
                  validator: signers
                  with:
                    trustRoot: team
                    verifyInTransparencyLog: false
            """
        }

        var equivalentClusterImagePolicy: String {
            """
            apiVersion: policy.sigstore.dev/v1beta1
            kind: ClusterImagePolicy
            metadata: {name: cosign-team}
            spec:
              images: [{glob: "\(host)/cosign/**"}]
              authorities:
                - key:
                    data: |
            \(Self.indent(cosignKey.publicKeyPEM, 10))
            """
        }

        func review(_ image: String) throws -> String {
            try AdmissionReviews.write(AdmissionReviews.pod([image]), in: e2e.dir)
        }
    }

    static let world = Result { try World() }

    /// The JSON patch of a /mutate answer, as text ("" without one).
    static func patch(_ response: [String: Any]) -> String {
        (response["patch"] as? String).flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    @Test func verifyCommandPrintsTheSignedDigestAndSigners() throws {
        let w = try Self.world.get()
        let root = try w.e2e.write(w.rootPEM, to: "notary-root.pub").path
        let flags = ["verify", "--notary-server", w.notary.url, "--notary-root", root, "--notary-ca", w.notary.caFile, "--insecure-registry", w.host]
        var out = try w.e2e.sealgate(flags + [w.e2e.ref("dct/app", ":v1")])
        #expect(out.status == 0, "\(out.stderr)")
        let printed = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]]
        #expect(printed?.first?["digest"] as? String == w.digests["dct/app:v1"])
        #expect(printed?.first?["signers"] as? [String] == ["targets"])

        out = try w.e2e.sealgate(flags + ["--notary-delegation", "releases", "--output", "text", w.e2e.ref("dct/released", ":v2")])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.contains("\(w.digests["dct/released:v2"]!) signed by targets/releases"))

        out = try w.e2e.sealgate(flags + [w.e2e.ref("dct/app", ":moved")])
        #expect(out.status == 1)
        #expect(out.stderr.contains(w.digests["dct/app:moved"]!) && out.stderr.contains(w.digests["dct/app:moved-signed"]!), "\(out.stderr)")
        out = try w.e2e.sealgate(flags + [w.e2e.ref("dct/app", ":unsigned")])
        #expect(out.status == 1)
        #expect(out.stderr.contains("no signed digest for tag unsigned"), "\(out.stderr)")
        out = try w.e2e.sealgate(["verify", "--notary-server", w.notary.url, w.e2e.ref("dct/app", ":v1")])
        #expect(out.status == 2, "no --notary-root is a usage error")
    }

    @Test func connaisseurConfigurationDecidesAdmission() throws {
        let w = try Self.world.get()
        let policy = try w.e2e.write(w.connaisseur, to: "connaisseur/values.yaml").path
        let lint = try w.e2e.sealgate(["lint", policy])
        #expect(lint.status == 0, "\(lint.stdout) \(lint.stderr)")
        let server = try w.e2e.serve(["--policy", policy, "--insecure-registry", w.host] + w.e2e.trustFlags,
                                     tls: try w.e2e.issueCertificate(serial: 2727))
        defer { server.stop() }

        // Signed: admitted, pinned to the signed digest.
        var r = try w.e2e.post(try w.review(w.e2e.ref("dct/app", ":v1")), to: server, path: "/mutate")
        #expect(r["allowed"] as? Bool == true, "\(E2EWorld.message(r))")
        #expect(Self.patch(r).contains("dct/app:v1@\(w.digests["dct/app:v1"]!)"), "\(Self.patch(r))")
        // Re-pointed after signing: denied naming both digests.
        r = try w.e2e.post(try w.review(w.e2e.ref("dct/app", ":moved")), to: server, path: "/validate")
        #expect(r["allowed"] as? Bool == false)
        let moved = E2EWorld.message(r)
        #expect(moved.contains(w.digests["dct/app:moved"]!) && moved.contains(w.digests["dct/app:moved-signed"]!), "\(moved)")
        // Unsigned: denied.
        r = try w.e2e.post(try w.review(w.e2e.ref("dct/app", ":unsigned")), to: server, path: "/validate")
        #expect(r["allowed"] as? Bool == false)
        #expect(E2EWorld.message(r).contains("no signed digest for tag unsigned"), "\(E2EWorld.message(r))")
        // Delegation required: the targets-only signature is refused, the releases one admitted.
        r = try w.e2e.post(try w.review(w.e2e.ref("dct/released", ":v1")), to: server, path: "/validate")
        #expect(r["allowed"] as? Bool == false)
        #expect(E2EWorld.message(r).contains("not signed by targets/releases"), "\(E2EWorld.message(r))")
        r = try w.e2e.post(try w.review(w.e2e.ref("dct/released", ":v2")), to: server, path: "/mutate")
        #expect(r["allowed"] as? Bool == true, "\(E2EWorld.message(r))")
        // No rule but the catch-all: the static deny validator.
        r = try w.e2e.post(try w.review("docker.io/library/nginx:1.27"), to: server, path: "/validate")
        #expect(r["allowed"] as? Bool == false)
        #expect(E2EWorld.message(r).contains("static deny"), "\(E2EWorld.message(r))")
    }

    @Test func cosignValidatorDecidesAsTheEquivalentClusterImagePolicy() throws {
        let w = try Self.world.get()
        let connaisseur = try w.e2e.write(w.connaisseur, to: "equivalence/connaisseur.yaml").path
        let cip = try w.e2e.write(w.equivalentClusterImagePolicy, to: "equivalence/cip.yaml").path
        let a = try w.e2e.serve(["--policy", connaisseur, "--insecure-registry", w.host] + w.e2e.trustFlags, tls: try w.e2e.issueCertificate(serial: 2728, name: "a"))
        defer { a.stop() }
        let b = try w.e2e.serve(["--policy", cip, "--insecure-registry", w.host] + w.e2e.trustFlags, tls: try w.e2e.issueCertificate(serial: 2729, name: "b"))
        defer { b.stop() }
        for image in ["cosign/app:v1", "cosign/unsigned:v1"] {
            let review = try w.review(w.e2e.ref(image))
            let fromConnaisseur = try w.e2e.post(review, to: a), fromCIP = try w.e2e.post(review, to: b)
            #expect(fromConnaisseur["allowed"] as? Bool == fromCIP["allowed"] as? Bool, "\(image): \(E2EWorld.message(fromConnaisseur)) vs \(E2EWorld.message(fromCIP))")
            let patchA = try w.e2e.post(review, to: a, path: "/mutate"), patchB = try w.e2e.post(review, to: b, path: "/mutate")
            #expect(Self.patch(patchA) == Self.patch(patchB), "\(image)")
            #expect(fromConnaisseur["allowed"] as? Bool == (image == "cosign/app:v1"), "\(image): \(E2EWorld.message(fromConnaisseur))")
        }
    }

    /// Last: stops the notary server.
    @Test func notaryServerDownFailsClosedWithinTheDeadline() throws {
        let w = try Self.world.get()
        let policy = try w.e2e.write(w.connaisseur, to: "outage/values.yaml").path
        let server = try w.e2e.serve(["--policy", policy, "--insecure-registry", w.host] + w.e2e.trustFlags,
                                     tls: try w.e2e.issueCertificate(serial: 2730, name: "outage"))
        defer { server.stop() }
        w.notary.stop()
        let started = Date()
        let r = try w.e2e.post(try w.review(w.e2e.ref("dct/app", ":late")), to: server, path: "/validate")
        #expect(r["allowed"] as? Bool == false)
        #expect(E2EWorld.message(r).contains("unreachable"), "\(E2EWorld.message(r))")
        #expect(Date().timeIntervalSince(started) < 12)
    }
}
