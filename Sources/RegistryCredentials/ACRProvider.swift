import Foundation
import HTTP1Client
import Registry
import SealgateCore

/// Azure Container Registry with Azure AD workload identity: the projected service account token
/// (`AZURE_FEDERATED_TOKEN_FILE`) is a client assertion for `AZURE_CLIENT_ID` at
/// `AZURE_AUTHORITY_HOST/AZURE_TENANT_ID/oauth2/v2.0/token` (client credentials grant); the AAD access token is
/// exchanged at the registry's `/oauth2/exchange` for an ACR refresh token, the password of the all-zero user.
///
/// Tested against loopback stand-ins of AAD and the exchange; only Azure can confirm the federated credential,
/// role assignments (AcrPull) and the refresh token's lifetime.
public final class ACRProvider: RegistryCredentialProvider, @unchecked Sendable {
    public let name = "azure"
    static let user = "00000000-0000-0000-0000-000000000000"
    private let environment: [String: String]
    private let hosts: Set<String>
    private let http: CloudHTTP
    let tokens: TokenCache

    init(environment: [String: String], hosts: Set<String>, client: HTTPClient, margin: Double) {
        self.environment = environment
        self.hosts = hosts
        http = CloudHTTP(client: client, provider: "azure ACR")
        tokens = TokenCache(margin: margin)
    }

    public func serves(registry: String) -> Bool {
        hosts.contains(registry) || [".azurecr.io", ".azurecr.cn", ".azurecr.us"].contains { registry.hasSuffix($0) }
    }

    public func credential(for registry: String, deadline: Deadline) throws -> Credential? {
        try tokens.credential(registry) {
            let (aad, aadLifetime) = try aadToken(deadline: deadline)
            let tenant = environment["AZURE_TENANT_ID"] ?? ""
            // SEALGATE_ACR_EXCHANGE_URL only points tests at a stand-in; the real exchange is the registry's own.
            let url = environment["SEALGATE_ACR_EXCHANGE_URL"] ?? "https://\(registry)/oauth2/exchange"
            let reply = try http.send("POST", url, headers: [("content-type", "application/x-www-form-urlencoded")],
                                      body: CloudHTTP.form([("grant_type", "access_token"), ("service", registry), ("tenant", tenant),
                                                            ("access_token", aad)]), step: "ACR refresh-token exchange", deadline: deadline)
            guard let refresh = reply.json?["refresh_token"] as? String, !refresh.isEmpty else {
                throw CloudCredentialError("azure ACR", "ACR refresh-token exchange", "answer has no refresh_token")
            }
            return (Credential(username: Self.user, password: refresh), Self.expiry(ofJWT: refresh).map { $0.timeIntervalSinceNow } ?? aadLifetime)
        }
    }

    private func aadToken(deadline: Deadline) throws -> (String, Double) {
        guard let client = environment["AZURE_CLIENT_ID"], let tenant = environment["AZURE_TENANT_ID"],
              let file = environment["AZURE_FEDERATED_TOKEN_FILE"] else {
            throw CloudCredentialError("azure ACR", "credentials", "AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE (workload identity) are not all set")
        }
        guard let assertion = FileManager.default.contents(atPath: file).map({ String(decoding: $0, as: UTF8.self) })?
            .trimmingCharacters(in: .whitespacesAndNewlines), !assertion.isEmpty else {
            throw CloudCredentialError("azure ACR", "federated token", "cannot read \(file)")
        }
        var authority = environment["AZURE_AUTHORITY_HOST"] ?? "https://login.microsoftonline.com/"
        if !authority.hasSuffix("/") { authority += "/" }
        let body = CloudHTTP.form([("client_id", client), ("grant_type", "client_credentials"), ("scope", "https://management.azure.com/.default"),
                                   ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                                   ("client_assertion", assertion)])
        let reply = try http.send("POST", "\(authority)\(tenant)/oauth2/v2.0/token", headers: [("content-type", "application/x-www-form-urlencoded")],
                                  body: body, step: "AAD token", deadline: deadline)
        guard let token = reply.json?["access_token"] as? String, !token.isEmpty else {
            throw CloudCredentialError("azure ACR", "AAD token", "answer has no access_token")
        }
        return (token, (reply.json?["expires_in"] as? Double) ?? 300)
    }

    /// The `exp` claim of a JWT's payload (ACR refresh tokens are JWTs; their signature is the registry's business).
    static func expiry(ofJWT token: String) -> Date? {
        let parts = token.split(separator: ".")
        guard parts.count == 3 else { return nil }
        var payload = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while payload.count % 4 != 0 { payload += "=" }
        guard let data = Data(base64Encoded: payload), let claims = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let exp = claims["exp"] as? Double else { return nil }
        return Date(timeIntervalSince1970: exp)
    }
}
