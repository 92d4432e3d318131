import Foundation
import HTTP1Client
import Registry
import SealgateCore

/// Amazon ECR, keyless as EKS intends (IRSA): the projected web identity token is exchanged at STS
/// (`AssumeRoleWithWebIdentity`, unsigned) for temporary keys, which sign (SigV4, service `ecr`) a
/// `GetAuthorizationToken` call; its `authorizationToken` is base64 of `AWS:password`. Static keys
/// (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`[/`AWS_SESSION_TOKEN`]) skip the STS step.
///
/// Tested against a loopback stand-in that checks the SigV4 signature with botocore; only real AWS can confirm
/// the IAM side (role trust policy, `ecr:GetAuthorizationToken` permission) and regional endpoint quirks.
public final class ECRProvider: RegistryCredentialProvider, @unchecked Sendable {
    public let name = "amazon"
    struct Settings {
        var roleARN: String?
        var tokenFile: String?
        var sessionName = "sealgate"
        var staticKeys: (access: String, secret: String, session: String?)?
        var region: String?
        var stsEndpoint: String?
        var ecrEndpoint: String?
        var hosts: Set<String> = []
    }

    private let settings: Settings
    private let http: CloudHTTP
    private let keys: TokenCache
    let tokens: TokenCache

    /// From the environment EKS sets (`AWS_ROLE_ARN`, `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_REGION`), the AWS SDKs'
    /// endpoint overrides (`AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL_ECR`) and `hosts` served besides `*.dkr.ecr.*`.
    init(environment: [String: String], hosts: Set<String>, client: HTTPClient, margin: Double) {
        var s = Settings()
        s.roleARN = environment["AWS_ROLE_ARN"]
        s.tokenFile = environment["AWS_WEB_IDENTITY_TOKEN_FILE"]
        if let name = environment["AWS_ROLE_SESSION_NAME"], !name.isEmpty { s.sessionName = name }
        if let access = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"] {
            s.staticKeys = (access, secret, environment["AWS_SESSION_TOKEN"])
        }
        s.region = environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"]
        s.stsEndpoint = environment["AWS_ENDPOINT_URL_STS"]
        s.ecrEndpoint = environment["AWS_ENDPOINT_URL_ECR"]
        s.hosts = hosts
        settings = s
        http = CloudHTTP(client: client, provider: "amazon ECR")
        keys = TokenCache(margin: margin)
        tokens = TokenCache(margin: margin)
    }

    public func serves(registry: String) -> Bool {
        settings.hosts.contains(registry) || Self.region(ofHost: registry) != nil
    }

    /// `ACCOUNT.dkr.ecr.REGION.amazonaws.com[.cn]` → REGION.
    static func region(ofHost host: String) -> String? {
        let labels = host.split(separator: ".").map(String.init)
        guard labels.count >= 6, labels[1] == "dkr", labels[2] == "ecr", labels[4] == "amazonaws" else { return nil }
        return labels[3]
    }

    public func credential(for registry: String, deadline: Deadline) throws -> Credential? {
        guard let region = Self.region(ofHost: registry) ?? settings.region else {
            throw CloudCredentialError("amazon ECR", "region", "\(registry) names no region and AWS_REGION is not set")
        }
        return try tokens.credential(registry) { try authorizationToken(region: region, deadline: deadline) }
    }

    private func authorizationToken(region: String, deadline: Deadline) throws -> (Credential, lifetime: Double) {
        let keys = try temporaryKeys(region: region, deadline: deadline)
        let url = settings.ecrEndpoint ?? "https://api.ecr.\(region).amazonaws.com/"
        let (endpoint, target) = try http.endpoint(url, step: "GetAuthorizationToken")
        let body = Array("{}".utf8)
        let signer = SigV4(accessKey: keys.access, secretKey: keys.secret, sessionToken: keys.session, region: region, service: "ecr")
        let headers = signer.sign(method: "POST", host: endpoint.authority, path: target, headers: [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"),
        ], body: body)
        let reply = try http.send("POST", url, headers: headers, body: body, step: "GetAuthorizationToken", deadline: deadline)
        guard let data = (reply.json?["authorizationData"] as? [[String: Any]])?.first,
              let token = data["authorizationToken"] as? String,
              let decoded = Data(base64Encoded: token).flatMap({ String(data: $0, encoding: .utf8) }),
              let colon = decoded.firstIndex(of: ":") else {
            throw CloudCredentialError("amazon ECR", "GetAuthorizationToken", "answer has no authorizationData[0].authorizationToken of base64 user:password")
        }
        let expiresAt = (data["expiresAt"] as? Double) ?? Date().timeIntervalSince1970 + 3600
        return (Credential(username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...])),
                expiresAt - Date().timeIntervalSince1970)
    }

    private func temporaryKeys(region: String, deadline: Deadline) throws -> (access: String, secret: String, session: String?) {
        if settings.roleARN == nil, let keys = settings.staticKeys { return keys }
        guard let role = settings.roleARN, let file = settings.tokenFile else {
            throw CloudCredentialError("amazon ECR", "credentials", "neither AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE (IRSA) nor AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are set")
        }
        let packed = try keys.credential("sts \(role)") {
            guard let token = FileManager.default.contents(atPath: file).map({ String(decoding: $0, as: UTF8.self) })?
                .trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
                throw CloudCredentialError("amazon ECR", "web identity token", "cannot read \(file)")
            }
            let url = settings.stsEndpoint ?? "https://sts.\(region).amazonaws.com/"
            let body = CloudHTTP.form([("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", role),
                                       ("RoleSessionName", settings.sessionName), ("WebIdentityToken", token)])
            let reply = try http.send("POST", url, headers: [("content-type", "application/x-www-form-urlencoded")], body: body,
                                      step: "STS AssumeRoleWithWebIdentity", deadline: deadline)
            let xml = String(decoding: reply.body, as: UTF8.self)
            guard let access = Self.element("AccessKeyId", in: xml), let secret = Self.element("SecretAccessKey", in: xml),
                  let session = Self.element("SessionToken", in: xml) else {
                throw CloudCredentialError("amazon ECR", "STS AssumeRoleWithWebIdentity", "answer has no Credentials (AccessKeyId, SecretAccessKey, SessionToken)")
            }
            let expiry = Self.element("Expiration", in: xml).flatMap { ISO8601DateFormatter().date(from: $0) } ?? Date().addingTimeInterval(900)
            // Packed into one Credential for the cache: "access\nsession" / secret.
            return (Credential(username: access + "\n" + session, password: secret), expiry.timeIntervalSinceNow)
        }
        let parts = packed.username.split(separator: "\n", maxSplits: 1).map(String.init)
        return (parts[0], packed.password, parts.count > 1 ? parts[1] : nil)
    }

    /// The text of the first `<name>…</name>` (STS answers in XML; the values are plain base64/ASCII).
    static func element(_ name: String, in xml: String) -> String? {
        guard let open = xml.range(of: "<\(name)>"), let close = xml.range(of: "</\(name)>", range: open.upperBound..<xml.endIndex) else { return nil }
        return String(xml[open.upperBound..<close.lowerBound]).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
