import Foundation
import ImageReference
import Registry
@testable import RegistryCredentials
import SealgateCore
import Testing
import TestSupport

/// Each cloud flow against its loopback stand-in: the documented requests, the credential they yield, caching until
/// shortly before expiry, and errors that name the step and never a token.
@Suite(.serialized)
struct CloudProviderTests {
    static let password = "cloud-registry-pw"
    static let ecrHost = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"

    static func provider(_ name: String, _ environment: [String: String], margin: Double = 60,
                         hosts: [String: Set<String>] = [:]) throws -> any RegistryCredentialProvider {
        try #require(try CloudProviders.make(environment: environment, hosts: hosts, margin: margin, selected: { [name] }).first { $0.name == name })
    }

    @Test("SigV4 matches AWS's published get-vanilla example")
    func sigV4KnownAnswer() throws {
        let signer = SigV4(accessKey: "AKIDEXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: nil,
                           region: "us-east-1", service: "service")
        let date = try #require(ISO8601DateFormatter().date(from: "2015-08-30T12:36:00Z"))
        let headers = signer.sign(method: "GET", host: "example.amazonaws.com", path: "/", headers: [], body: [], date: date)
        let authorization = headers.first { $0.0 == "authorization" }?.1 ?? ""
        #expect(authorization == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    @Test("ECR: IRSA token → STS AssumeRoleWithWebIdentity → SigV4-signed GetAuthorizationToken (checked by botocore); cached, renewed before expiry")
    func ecr() throws {
        let cloud = try CloudStandIn(password: Self.password, lifetime: 3)
        let ecr = try Self.provider("amazon", try cloud.amazon(), margin: 2)
        #expect(ecr.serves(registry: Self.ecrHost) && ecr.serves(registry: "1.dkr.ecr.cn-north-1.amazonaws.com.cn") && !ecr.serves(registry: "ghcr.io"))
        let deadline = Deadline.after(seconds: 10)
        #expect(try ecr.credential(for: Self.ecrHost, deadline: deadline) == Credential(username: "AWS", password: Self.password))
        #expect(try ecr.credential(for: Self.ecrHost, deadline: deadline) == Credential(username: "AWS", password: Self.password))
        #expect(try cloud.counts() == ["sts": 1, "ecr": 1], "the second call is answered from the cache")
        usleep(1_300_000)  // 3 s lifetime, renewed 2 s before: expired now
        _ = try ecr.credential(for: Self.ecrHost, deadline: .after(seconds: 10))
        #expect(try cloud.counts() == ["sts": 2, "ecr": 2])

        let wrong = try Self.provider("amazon", try cloud.amazon(token: "someone-else"))
        let error = #expect(throws: CloudCredentialError.self) { try wrong.credential(for: Self.ecrHost, deadline: .after(seconds: 10)) }
        #expect(error?.description.contains("STS AssumeRoleWithWebIdentity") == true && error?.description.contains("403") == true, "\(error!)")
        #expect(error?.description.contains("someone-else") == false)
        let unset = try Self.provider("amazon", [:])
        #expect(throws: CloudCredentialError.self) { try unset.credential(for: Self.ecrHost, deadline: .after(seconds: 10)) }
    }

    @Test("Google: the metadata server's token, and workload identity federation (STS exchange, impersonation), as oauth2accesstoken; cached")
    func google() throws {
        let cloud = try CloudStandIn(password: Self.password, lifetime: 3)
        let metadata = try Self.provider("google", cloud.googleMetadata, margin: 2)
        #expect(metadata.serves(registry: "europe-docker.pkg.dev") && metadata.serves(registry: "eu.gcr.io") && metadata.serves(registry: "gcr.io"))
        for _ in 0..<2 {
            #expect(try metadata.credential(for: "gcr.io", deadline: .after(seconds: 10)) == Credential(username: "oauth2accesstoken", password: Self.password))
        }
        #expect(try cloud.counts() == ["metadata": 1])
        usleep(1_300_000)
        _ = try metadata.credential(for: "europe-docker.pkg.dev", deadline: .after(seconds: 10))
        #expect(try cloud.counts() == ["metadata": 2])

        let federated = try Self.provider("google", try cloud.googleFederation(), margin: 0.5)
        #expect(try federated.credential(for: "gcr.io", deadline: .after(seconds: 10)) == Credential(username: "oauth2accesstoken", password: Self.password))
        _ = try federated.credential(for: "gcr.io", deadline: .after(seconds: 10))
        #expect(try cloud.counts()["google-sts"] == 1 && cloud.counts()["google-iam"] == 1)
    }

    @Test("ACR: federated client assertion → AAD token → /oauth2/exchange refresh token for the all-zero user; cached; JWT exp honoured")
    func acr() throws {
        let cloud = try CloudStandIn(password: Self.password)
        let acr = try Self.provider("azure", try cloud.azure())
        #expect(acr.serves(registry: "myregistry.azurecr.io") && !acr.serves(registry: "azurecr.io.example"))
        for _ in 0..<2 {
            #expect(try acr.credential(for: "myregistry.azurecr.io", deadline: .after(seconds: 10))
                    == Credential(username: "00000000-0000-0000-0000-000000000000", password: Self.password))
        }
        #expect(try cloud.counts() == ["aad": 1, "acr": 1])
        _ = try acr.credential(for: "other.azurecr.io", deadline: .after(seconds: 10))
        #expect(try cloud.counts() == ["aad": 2, "acr": 2], "each registry has its own refresh token")
        let payload = Data(#"{"exp":1900000000}"#.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
        #expect(ACRProvider.expiry(ofJWT: "e30.\(payload).sig") == Date(timeIntervalSince1970: 1_900_000_000))
        #expect(ACRProvider.expiry(ofJWT: "opaque") == nil)
    }

    @Test("GHCR: a token from the environment or a file, re-read after its TTL")
    func ghcr() throws {
        let dir = try makeTemporaryDirectory("ghcr")
        let file = dir.appendingPathComponent("token").path
        try "ghp_first".write(toFile: file, atomically: true, encoding: .utf8)
        let provider = GHCRProvider(environment: ["GHCR_TOKEN_FILE": file, "GHCR_USERNAME": "bot"], hosts: [], ttl: 0.5)
        #expect(try provider.credential(for: "ghcr.io", deadline: .after(seconds: 1)) == Credential(username: "bot", password: "ghp_first"))
        try "ghp_second".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try provider.credential(for: "ghcr.io", deadline: .after(seconds: 1))?.password == "ghp_first")
        usleep(600_000)
        #expect(try provider.credential(for: "ghcr.io", deadline: .after(seconds: 1))?.password == "ghp_second")
        #expect(throws: CloudCredentialError.self) { try GHCRProvider(environment: [:], hosts: []).credential(for: "ghcr.io", deadline: .after(seconds: 1)) }
    }

    @Test("selection: a provider serves its hosts only when its environment is present or it is named; --registry-provider maps hosts")
    func selection() throws {
        let hosts = try CloudProviders.hostMap(["mirror.internal:5000=google"])
        let unnamed = try CloudProviders.make(environment: [:], hosts: hosts)
        #expect(!unnamed.contains { $0.serves(registry: Self.ecrHost) || $0.serves(registry: "mirror.internal:5000") }, "unconfigured and unnamed: anonymous")
        let providers = try CloudProviders.make(environment: [:], hosts: hosts, selected: { ["amazon", "google"] })
        #expect(providers.first { $0.serves(registry: Self.ecrHost) }?.name == "amazon")
        #expect(providers.first { $0.serves(registry: "mirror.internal:5000") }?.name == "google")
        #expect(!providers.contains { $0.serves(registry: "ghcr.io") })
        let configured = try CloudProviders.make(environment: ["GITHUB_TOKEN": "t"])
        #expect(configured.first { $0.serves(registry: "ghcr.io") }?.name == "github")
        let bad = #expect(throws: CloudCredentialError.self) { try CloudProviders.hostMap(["host.example=aws"]) }
        #expect(bad?.description.contains("host.example=aws") == true)
    }

    @Test("end to end over the htpasswd registry: each provider's credential authenticates, none does not")
    func throughRegistry() throws {
        let pki = try TestPKI()
        let users = ["AWS": Self.password, "oauth2accesstoken": Self.password, "00000000-0000-0000-0000-000000000000": Self.password, "bot": "ghp_pw"]
        let registry = try LocalRegistry(tls: pki, users: users)
        defer { registry.stop() }
        var pusher = RegistryConfiguration()
        pusher.extraCAFile = pki.caCertificate
        pusher.credentials.set(Credential(username: "AWS", password: Self.password), for: registry.host)
        let client = try RegistryClient(configuration: pusher)
        let manifest = Array(#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#.utf8)
        try client.pushBlob(registry: registry.host, repository: "private/app", bytes: Array("{}".utf8), deadline: .after(seconds: 10))
        let pushed = try client.pushManifest(registry: registry.host, repository: "private/app", reference: "v1", bytes: manifest,
                                             mediaType: "application/vnd.oci.image.manifest.v1+json", deadline: .after(seconds: 10))
        let ref = try ImageRef(parsing: "\(registry.host)/private/app:v1")
        let cloud = try CloudStandIn(password: Self.password)
        for (name, environment) in [("amazon", try cloud.amazon()), ("google", cloud.googleMetadata), ("azure", try cloud.azure()),
                                    ("github", ["GHCR_TOKEN": "ghp_pw", "GHCR_USERNAME": "bot"])] {
            var config = RegistryConfiguration()
            config.extraCAFile = pki.caCertificate
            config.providers = try CloudProviders.make(environment: environment, hosts: [name: [registry.host]], selected: { [name] })
            #expect(try RegistryClient(configuration: config).resolve(ref, deadline: .after(seconds: 10)).digest == pushed.digest, "\(name)")
        }
        var none = RegistryConfiguration()
        none.extraCAFile = pki.caCertificate
        none.providers = try CloudProviders.make(environment: [:], hosts: ["amazon": [registry.host]])
        let error = #expect(throws: RegistryError.self) { try RegistryClient(configuration: none).resolve(ref, deadline: .after(seconds: 10)) }
        #expect(error?.kind == .unauthorized && error?.isTransient == false)
        // Named but unconfigured: the error says what is missing.
        none.providers = try CloudProviders.make(environment: [:], hosts: ["amazon": [registry.host]], selected: { ["amazon"] })
        let missing = #expect(throws: RegistryError.self) { try RegistryClient(configuration: none).resolve(ref, deadline: .after(seconds: 10)) }
        #expect(missing?.description.contains("amazon") == true && missing?.description.contains("AWS_REGION") == true, "\(missing!)")
    }
}
