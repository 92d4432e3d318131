import Foundation
import ImagePolicy

/// cosign's `--type` values for attestations: short names and their in-toto predicate type URIs.
public enum PredicateType {
    /// cosign `options.PredicateTypeMap` (the policy engine's table, so both agree).
    public static var shortNames: [String: String] { PredicateTypes.shortNames }

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
