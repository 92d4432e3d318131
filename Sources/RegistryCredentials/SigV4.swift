import Crypto
import Foundation
import SealgateCore

/// AWS Signature Version 4 for one request (docs.aws.amazon.com "Create a signed AWS API request"): the canonical
/// request, the string to sign and the derived key, with swift-crypto's HMAC-SHA256 and SHA-256.
struct SigV4 {
    var accessKey: String
    var secretKey: String
    var sessionToken: String?
    var region: String
    var service: String

    /// `headers` plus `x-amz-date`, `x-amz-security-token` and `authorization`. `host` is the Host header's value.
    func sign(method: String, host: String, path: String, query: String = "", headers: [(String, String)], body: [UInt8],
              date: Date = Date()) -> [(String, String)] {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let amzDate = formatter.string(from: date)
        let day = String(amzDate.prefix(8))
        var all = headers.map { ($0.0.lowercased(), $0.1.trimmingCharacters(in: .whitespaces)) }
        all.append(("host", host))
        all.append(("x-amz-date", amzDate))
        if let sessionToken { all.append(("x-amz-security-token", sessionToken)) }
        all.sort { $0.0 < $1.0 }
        let signedHeaders = all.map(\.0).joined(separator: ";")
        let canonical = [method, path, query, all.map { "\($0.0):\($0.1)\n" }.joined(), signedHeaders, Hex.lowercase(SHA256.hash(data: body))]
            .joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let toSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(Hex.lowercase(SHA256.hash(data: Data(canonical.utf8))))"
        var key = SymmetricKey(data: Data("AWS4\(secretKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let signature = Hex.lowercase(HMAC<SHA256>.authenticationCode(for: Data(toSign.utf8), using: key))
        var out = headers.filter { $0.0.lowercased() != "host" }
        out.append(("x-amz-date", amzDate))
        if let sessionToken { out.append(("x-amz-security-token", sessionToken)) }
        out.append(("authorization", "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"))
        return out
    }
}
