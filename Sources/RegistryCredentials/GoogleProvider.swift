import Foundation
import HTTP1Client
import Registry
import SealgateCore

/// Google Artifact Registry and Container Registry: an OAuth2 access token used as the password of
/// `oauth2accesstoken`. On GKE/GCE (Workload Identity) the token comes from the metadata server
/// (`/computeMetadata/v1/instance/service-accounts/default/token`, header `Metadata-Flavor: Google`); elsewhere
/// from workload identity federation: `GOOGLE_APPLICATION_CREDENTIALS` naming an `external_account` file whose
/// subject token (`credential_source.file`) is exchanged at its `token_url` (RFC 8693), then optionally
/// traded for a service account's token at `service_account_impersonation_url`.
///
/// Tested against loopback stand-ins of both endpoints; only Google can confirm IAM bindings and audiences.
public final class GoogleProvider: RegistryCredentialProvider, @unchecked Sendable {
    public let name = "google"
    private let metadataHost: String
    private let externalAccount: String?
    private let hosts: Set<String>
    private let http: CloudHTTP
    let tokens: TokenCache
    static let scope = "https://www.googleapis.com/auth/cloud-platform"

    init(environment: [String: String], hosts: Set<String>, client: HTTPClient, margin: Double) {
        metadataHost = environment["GCE_METADATA_HOST"] ?? "metadata.google.internal"
        externalAccount = environment["GOOGLE_APPLICATION_CREDENTIALS"]
        self.hosts = hosts
        http = CloudHTTP(client: client, provider: "google")
        tokens = TokenCache(margin: margin)
    }

    public func serves(registry: String) -> Bool {
        hosts.contains(registry) || registry == "gcr.io" || registry.hasSuffix(".gcr.io") || registry.hasSuffix("-docker.pkg.dev")
    }

    public func credential(for registry: String, deadline: Deadline) throws -> Credential? {
        // One token serves every Google registry.
        try tokens.credential("access token") {
            let (token, lifetime) = try externalAccount.map { try federated(file: $0, deadline: deadline) } ?? metadata(deadline: deadline)
            return (Credential(username: "oauth2accesstoken", password: token), lifetime)
        }
    }

    private func metadata(deadline: Deadline) throws -> (String, Double) {
        let reply = try http.send("GET", "http://\(metadataHost)/computeMetadata/v1/instance/service-accounts/default/token",
                                  headers: [("metadata-flavor", "Google")], step: "metadata server token", deadline: deadline)
        return try accessToken(reply, step: "metadata server token")
    }

    private func federated(file: String, deadline: Deadline) throws -> (String, Double) {
        let step = "workload identity federation (\(file))"
        guard let data = FileManager.default.contents(atPath: file),
              let config = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              config["type"] as? String == "external_account",
              let audience = config["audience"] as? String, let tokenURL = config["token_url"] as? String,
              let subjectType = config["subject_token_type"] as? String,
              let source = (config["credential_source"] as? [String: Any])?["file"] as? String else {
            throw CloudCredentialError("google", step, "not an external_account file with audience, token_url, subject_token_type and credential_source.file")
        }
        guard let subject = FileManager.default.contents(atPath: source).map({ String(decoding: $0, as: UTF8.self) })?
            .trimmingCharacters(in: .whitespacesAndNewlines), !subject.isEmpty else {
            throw CloudCredentialError("google", step, "cannot read the subject token \(source)")
        }
        let body = CloudHTTP.form([("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"), ("audience", audience),
                                   ("scope", Self.scope), ("requested_token_type", "urn:ietf:params:oauth:token-type:access_token"),
                                   ("subject_token_type", subjectType), ("subject_token", subject)])
        let exchanged = try accessToken(try http.send("POST", tokenURL, headers: [("content-type", "application/x-www-form-urlencoded")], body: body,
                                                      step: "STS token exchange", deadline: deadline), step: "STS token exchange")
        guard let impersonate = config["service_account_impersonation_url"] as? String else { return exchanged }
        let reply = try http.send("POST", impersonate, headers: [("content-type", "application/json"), ("authorization", "Bearer \(exchanged.0)")],
                                  body: Array(#"{"scope":["\#(Self.scope)"]}"#.utf8), step: "service account impersonation", deadline: deadline)
        guard let token = reply.json?["accessToken"] as? String, let expire = reply.json?["expireTime"] as? String,
              let expiry = ISO8601DateFormatter().date(from: expire) else {
            throw CloudCredentialError("google", "service account impersonation", "answer has no accessToken and expireTime")
        }
        return (token, expiry.timeIntervalSinceNow)
    }

    private func accessToken(_ reply: CloudHTTP.Reply, step: String) throws -> (String, Double) {
        guard let token = reply.json?["access_token"] as? String, !token.isEmpty else {
            throw CloudCredentialError("google", step, "answer has no access_token")
        }
        return (token, (reply.json?["expires_in"] as? Double) ?? 300)
    }
}
