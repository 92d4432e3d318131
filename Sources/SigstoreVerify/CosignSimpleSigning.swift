import Foundation

/// cosign's "simple signing" payload (`application/vnd.dev.cosign.simplesigning.v1+json`), the bytes a cosign
/// container image signature signs:
///
///     {"critical":{"identity":{"docker-reference":"reg/repo"},
///                  "image":{"docker-manifest-digest":"sha256:…"},
///                  "type":"cosign container image signature"},
///      "optional":{"key":"value",…} | null}
public struct CosignSimpleSigningPayload: Sendable, Hashable {
    public static let mediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
    public static let signatureType = "cosign container image signature"

    public var dockerReference: String
    public var manifestDigest: String
    public var type: String
    /// The `optional` object, values as JSON text for non-strings (`true`, `3`), strings as-is.
    public var optional: [String: String]
    /// The original JSON object, for output (`critical` / `optional`).
    public var rawJSON: Data

    public init(json data: Data) throws {
        guard let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SigstoreError.malformedEnvelope("simple-signing payload is not a JSON object")
        }
        guard let critical = o["critical"] as? [String: Any] else {
            throw SigstoreError.malformedEnvelope("simple-signing payload has no 'critical' object")
        }
        guard let image = critical["image"] as? [String: Any], let digest = image["docker-manifest-digest"] as? String else {
            throw SigstoreError.malformedEnvelope("simple-signing payload has no critical.image.docker-manifest-digest")
        }
        let identity = critical["identity"] as? [String: Any]
        dockerReference = identity?["docker-reference"] as? String ?? ""
        manifestDigest = digest
        type = critical["type"] as? String ?? ""
        var opt: [String: String] = [:]
        if let optional = o["optional"] as? [String: Any] {
            for (k, v) in optional {
                if let s = v as? String { opt[k] = s; continue }
                if let d = try? JSONSerialization.data(withJSONObject: v, options: [.sortedKeys, .fragmentsAllowed]) {
                    opt[k] = String(decoding: d, as: UTF8.self)
                }
            }
        }
        optional = opt
        rawJSON = data
    }

    /// Encodes a payload the way cosign does (compact JSON; `optional` null when there are no annotations).
    public static func encode(dockerReference: String, manifestDigest: String, annotations: [String: String] = [:]) -> Data {
        let obj: [String: Any] = [
            "critical": [
                "identity": ["docker-reference": dockerReference],
                "image": ["docker-manifest-digest": manifestDigest],
                "type": signatureType,
            ],
            "optional": annotations.isEmpty ? NSNull() : annotations as Any,
        ]
        return try! JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes])
    }
}

/// Annotation keys cosign puts on signature/attestation layers.
public enum CosignAnnotation {
    public static let signature = "dev.cosignproject.cosign/signature"
    public static let certificate = "dev.sigstore.cosign/certificate"
    public static let chain = "dev.sigstore.cosign/chain"
    public static let bundle = "dev.sigstore.cosign/bundle"
    public static let rfc3161Timestamp = "dev.sigstore.cosign/rfc3161timestamp"
}

extension Encoding {
    /// Public base64 decoder tolerant of missing padding / URL alphabet.
    public static func decodeBase64(_ s: String) -> Data? { base64(s) }
    public static func hexString(_ d: Data) -> String { hex(d) }
    /// All PEM blocks (label, DER) in a text.
    public static func pem(_ text: String, label: String? = nil) -> [(label: String, der: Data)] { pemBlocks(text, label: label) }
}
