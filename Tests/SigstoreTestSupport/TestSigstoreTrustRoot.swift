import Foundation
import X509

extension TestSigstore {
    /// This instance as a policy-controller TrustRoot `spec.sigstoreKeys` (PEM base64-encoded, as Go `[]byte`):
    /// its Fulcio chain, Rekor and CT log keys and TSA chain. `timestampAuthorities: false` leaves the TSA out.
    public func sigstoreKeys(timestampAuthorities: Bool = true) -> [String: Any] {
        func b64(_ pem: String) -> String { Data(pem.utf8).base64EncodedString() }
        func authority(_ chain: [Certificate], _ uri: String, _ name: String) -> [String: Any] {
            ["subject": ["organization": "sealgate-test", "commonName": name], "uri": uri,
             "certChain": b64(chain.map(PEM.certificate).joined())]
        }
        func log(_ key: SigningKey, _ url: String) -> [String: Any] {
            ["baseURL": url, "hashAlgorithm": "sha-256", "publicKey": b64(key.publicKeyPEM)]
        }
        var keys: [String: Any] = [
            "certificateAuthorities": [authority(fulcio.chain, "https://fulcio.sealgate.test", "fulcio")],
            "tLogs": [log(rekor.key, "https://rekor.sealgate.test")],
            "ctLogs": [log(ctLog.key, "https://ct.sealgate.test")],
        ]
        if timestampAuthorities { keys["timestampAuthorities"] = [authority(tsa.chain, "https://tsa.sealgate.test", "tsa")] }
        return keys
    }

    /// A TrustRoot object named `name` with `sigstoreKeys()`, as JSON text (which is YAML too).
    public func trustRootDocument(name: String, timestampAuthorities: Bool = true) -> String {
        let object: [String: Any] = ["apiVersion": "policy.sigstore.dev/v1alpha1", "kind": "TrustRoot", "metadata": ["name": name],
                                     "spec": ["sigstoreKeys": sigstoreKeys(timestampAuthorities: timestampAuthorities)]]
        return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
}
