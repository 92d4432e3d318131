import Foundation

/// cosign's `--type` values for attestations: short names and their in-toto predicate type URIs.
public enum PredicateType {
    /// cosign `options.PredicateTypeMap`.
    public static let shortNames: [String: String] = [
        "custom": "https://cosign.sigstore.dev/attestation/v1",
        "slsaprovenance": "https://slsa.dev/provenance/v0.2",
        "slsaprovenance02": "https://slsa.dev/provenance/v0.2",
        "slsaprovenance1": "https://slsa.dev/provenance/v1",
        "spdx": "https://spdx.dev/Document",
        "spdxjson": "https://spdx.dev/Document",
        "cyclonedx": "https://cyclonedx.org/bom",
        "link": "https://in-toto.io/Link/v1",
        "vuln": "https://cosign.sigstore.dev/attestation/vuln/v1",
        "openvex": "https://openvex.dev/ns",
    ]

    public struct InvalidType: Error, CustomStringConvertible {
        public let value: String
        public var description: String {
            "invalid predicate type '\(value)': use one of \(shortNames.keys.sorted().joined(separator: ", ")) or an absolute URI"
        }
    }

    /// A short name's URI, or `value` itself when it is an absolute URI (scheme and host or path).
    public static func resolve(_ value: String) throws -> String {
        if let uri = shortNames[value] { return uri }
        guard let url = URL(string: value), let scheme = url.scheme, !scheme.isEmpty,
              (url.host?.isEmpty == false || !url.path.isEmpty), !value.contains(" ") else {
            throw InvalidType(value: value)
        }
        return value
    }
}
