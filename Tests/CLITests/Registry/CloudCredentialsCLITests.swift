import E2ESupport
import Foundation
import Testing
import TestSupport

/// The cloud providers through the built binary, against loopback stand-ins of their token endpoints and the real
/// docker-registry with htpasswd (its host mapped to each provider with --registry-provider).
@Suite(.serialized)
struct CloudCredentialsCLITests {
    static let password = "cloud-cli-pw"
    static let users = ["AWS": password, "oauth2accesstoken": password, "00000000-0000-0000-0000-000000000000": password]

    static func signedWorld(_ name: String) throws -> E2EWorld {
        let world = try E2EWorld(name, registry: .tls(users: users))
        try world.pushSigned("private/app")
        return world
    }

    @Test("sealgate verify authenticates through each cloud provider's token exchange (ECR, Google, ACR); without it, unauthorized")
    func verifyThroughEachProvider() throws {
        let world = try Self.signedWorld("cloud-verify")
        defer { world.stop() }
        let cloud = try CloudStandIn(password: Self.password)
        let flags = ["verify", "--certificate-identity", E2EWorld.subject, "--certificate-oidc-issuer", E2EWorld.issuer,
                     "--trusted-root", world.trustedRootFile.path, "--registry-ca", world.pki.caCertificate]
        for (name, environment, extra) in [("amazon", try cloud.amazon(), [String]()), ("google", cloud.googleMetadata, ["--cloud-credentials", "google"]),
                                           ("azure", try cloud.azure(), [])] {
            let out = try SealgateCLI.run(flags + extra + ["--registry-provider", "\(world.host)=\(name)", world.ref("private/app", ":v1")],
                                          environment: environment.merging(["HOME": world.home.path, "COSIGN_REPOSITORY": ""]) { $1 })
            #expect(out.status == 0, "\(name): \(out.stderr)")
            #expect(!(out.stdout + out.stderr).contains(Self.password), "\(name)")
        }
        #expect(try cloud.counts() == ["sts": 1, "ecr": 1, "metadata": 1, "aad": 1, "acr": 1])
        // The metadata server is not used unless named (GKE sets no environment to detect).
        let out = try SealgateCLI.run(flags + ["--registry-provider", "\(world.host)=google", world.ref("private/app", ":v1")],
                                      environment: cloud.googleMetadata.merging(["HOME": world.home.path, "COSIGN_REPOSITORY": ""]) { $1 })
        #expect(out.status == 1 && out.stderr.contains("unauthorized"), "\(out.stderr)")
        let bad = try SealgateCLI.run(flags + ["--cloud-credentials", "aws", world.ref("private/app", ":v1")], environment: ["HOME": world.home.path])
        #expect(bad.status != 0 && bad.stderr.contains("--cloud-credentials aws"), "\(bad.stderr)")
    }

    @Test("serve: Kyverno imageRegistryCredentials.providers selects the provider; the token is fetched once and reused")
    func kyvernoProvidersSelect() throws {
        let world = try Self.signedWorld("cloud-serve")
        defer { world.stop() }
        let cloud = try CloudStandIn(password: Self.password)
        func policy(providers: String) -> String {
            """
            apiVersion: kyverno.io/v1
            kind: ClusterPolicy
            metadata: {name: private-images}
            spec:
              validationFailureAction: Enforce
              rules:
                - name: signed
                  match:
                    any:
                      - resources: {kinds: [Pod]}
                  verifyImages:
                    - imageReferences: ["\(world.host)/private/*"]
                      imageRegistryCredentials: {providers: [\(providers)]}
                      attestors:
                        - entries:
                            - keyless:
                                subject: "\(E2EWorld.subject)"
                                issuer: "\(E2EWorld.issuer)"
                                rekor: {url: "https://rekor.example"}
            """
        }
        let review = AdmissionReviews.pod([world.ref("private/app", ":v1")])
        for (providers, allowed) in [("default", false), ("default, google", true)] {
            let dir = try world.write(policy(providers: providers), to: "policies-\(allowed)/p.yaml").deletingLastPathComponent()
            let cert = try world.issueCertificate(serial: allowed ? 2403 : 2404)
            let server = try SealgateServer(arguments: ["--tls-cert", cert.certificate, "--tls-key", cert.key, "--policy", dir.path,
                                                        "--trusted-root", world.trustedRootFile.path, "--registry-ca", world.pki.caCertificate,
                                                        "--registry-provider", "\(world.host)=google", "--log-level", "trace"],
                                            environment: cloud.googleMetadata.merging(["HOME": world.home.path]) { $1 }, directory: world.dir.path)
            defer { server.stop() }
            for _ in 0..<2 {
                let response = try world.decide(try AdmissionReviews.write(review, in: world.dir), by: server)
                #expect(response["allowed"] as? Bool == allowed, "providers [\(providers)]: \(E2EWorld.message(response))")
                if !allowed { #expect(E2EWorld.message(response).contains("unauthorized"), "\(E2EWorld.message(response))") }
            }
            try world.flushCaches(server)
            _ = try world.decide(try AdmissionReviews.write(review, in: world.dir), by: server)
            server.stop()
            #expect(!(server.process.stderr + server.process.stdout).contains(Self.password))
        }
        #expect(try cloud.counts() == ["metadata": 1], "one token for every request while it is valid")
    }
}
