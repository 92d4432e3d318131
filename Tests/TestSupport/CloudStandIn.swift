import Foundation

/// Tests/Fixtures/cloud/cloud_standin.py on loopback: the STS/ECR, GCE metadata, Google STS/IAM, AAD and ACR
/// endpoints in their documented wire formats, and the counts of what each was asked.
public final class CloudStandIn: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible { public let description: String }
    public let process: BackgroundProcess
    public let port: UInt16
    public let subject: String
    public let password: String
    public let dir: URL

    public init(password: String, lifetime: Double = 3600, subject: String = "workload-jwt-\(UUID().uuidString)") throws {
        self.subject = subject
        self.password = password
        dir = try makeTemporaryDirectory("cloud-standin")
        let script = TestPaths.fixtures.appendingPathComponent("cloud/cloud_standin.py").path
        process = try BackgroundProcess("python3", ["-u", script, "--subject", subject, "--password", password, "--lifetime", String(lifetime)])
        guard process.waitForOutput(timeout: 20, { $0.contains("listening ") }),
              let line = process.stdout.split(separator: "\n").first(where: { $0.hasPrefix("listening ") }),
              let p = UInt16(line.split(separator: " ")[1]) else {
            process.stop()
            throw Failure(description: "cloud stand-in did not start: \(process.stderr)")
        }
        port = p
    }

    deinit { process.stop() }

    public var base: String { "http://127.0.0.1:\(port)" }

    /// The workload token written to a file (as Kubernetes projects it).
    public func tokenFile(_ token: String? = nil) throws -> String {
        let path = dir.appendingPathComponent("token-\(UUID().uuidString)").path
        try (token ?? subject).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Requests each endpoint answered successfully.
    public func counts() throws -> [String: Int] {
        let out = try Subprocess.run("curl", ["-s", base + "/_state"], timeout: 10).stdout
        return (try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Int]) ?? [:]
    }

    /// The environment each provider reads, pointed at the stand-in.
    public func amazon(token: String? = nil) throws -> [String: String] {
        ["AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/sealgate", "AWS_WEB_IDENTITY_TOKEN_FILE": try tokenFile(token), "AWS_REGION": "eu-west-1",
         "AWS_ENDPOINT_URL_STS": base + "/sts/", "AWS_ENDPOINT_URL_ECR": base + "/ecr/"]
    }

    public var googleMetadata: [String: String] { ["GCE_METADATA_HOST": "127.0.0.1:\(port)"] }

    public func googleFederation() throws -> [String: String] {
        let config = """
            {"type": "external_account", "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/k8s",
             "subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "token_url": "\(base)/google-sts/v1/token",
             "service_account_impersonation_url": "\(base)/google-iam/generateAccessToken",
             "credential_source": {"file": "\(try tokenFile())"}}
            """
        let path = dir.appendingPathComponent("external-account.json").path
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        return ["GOOGLE_APPLICATION_CREDENTIALS": path]
    }

    public func azure() throws -> [String: String] {
        ["AZURE_CLIENT_ID": "client-1", "AZURE_TENANT_ID": "tenant-1", "AZURE_FEDERATED_TOKEN_FILE": try tokenFile(),
         "AZURE_AUTHORITY_HOST": base + "/aad/", "SEALGATE_ACR_EXCHANGE_URL": base + "/acr/oauth2/exchange"]
    }
}
