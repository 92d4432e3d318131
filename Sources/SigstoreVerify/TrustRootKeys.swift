import Crypto
import Foundation
import X509

extension TrustedRoot {
    /// policy-controller's TrustRoot `spec.sigstoreKeys`: certificate chains and log keys as PEM (base64
    /// encoded in the object, since they are Go `[]byte`), no validity periods (open-ended), log IDs derived
    /// from the keys.
    public init(sigstoreKeys json: Data) throws {
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw SigstoreError.malformedTrustedRoot("sigstoreKeys is not a JSON object")
        }
        func pem(_ value: Any?, _ what: String) throws -> String {
            guard let text = value as? String, let data = Data(base64Encoded: text), let pem = String(data: data, encoding: .utf8) else {
                throw SigstoreError.malformedTrustedRoot("\(what): not base64-encoded PEM")
            }
            return pem
        }
        let always = ValidityPeriod(start: Date(timeIntervalSince1970: 0))
        func authorities(_ key: String) throws -> [CertificateAuthority] {
            try (object[key] as? [[String: Any]] ?? []).enumerated().map { i, ca in
                let text = try pem(ca["certChain"], "\(key)[\(i)].certChain")
                let chain = try Encoding.pem(text, label: "CERTIFICATE").map { try Certificate(derEncoded: Array($0.der)) }
                guard !chain.isEmpty else { throw SigstoreError.malformedTrustedRoot("\(key)[\(i)].certChain has no certificate") }
                return CertificateAuthority(uri: ca["uri"] as? String ?? "", chain: chain, validFor: always)
            }
        }
        func logs(_ key: String) throws -> [TransparencyLogInstance] {
            try (object[key] as? [[String: Any]] ?? []).enumerated().map { i, log in
                let publicKey = try PublicKey(pem: try pem(log["publicKey"], "\(key)[\(i)].publicKey"))
                return TransparencyLogInstance(baseURL: log["baseURL"] as? String ?? "", logID: publicKey.keyID, publicKey: publicKey, validFor: always)
            }
        }
        self.init(tlogs: try logs("tLogs"), certificateAuthorities: try authorities("certificateAuthorities"),
                  ctlogs: try logs("ctLogs"), timestampAuthorities: try authorities("timestampAuthorities"))
        fingerprint = Encoding.hex(SHA256.hash(data: json))
    }
}
