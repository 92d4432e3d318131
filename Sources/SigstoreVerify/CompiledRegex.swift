import Foundation

/// A regular expression compiled once per pattern: compiling took more instructions than the rest of an identity
/// check, and identity policies repeat the same few patterns. Only the compilation is shared; every match runs.
final class CompiledRegex: @unchecked Sendable {
    /// Patterns come from policies; the bound keeps hostile or churning policies from growing it.
    static let cache = BoundedCache<String, CompiledRegex>(capacity: 256)

    private let regex: Regex<AnyRegexOutput>
    // Regex is not Sendable (its compiled program is built lazily on first use), so matches take turns.
    private let lock = NSLock()

    private init(_ pattern: String) throws { regex = try Regex(pattern) }

    /// The compiled `pattern`; throws if it does not compile (failures are not cached).
    static func compiled(_ pattern: String) throws -> CompiledRegex {
        try cache.value(pattern) { try CompiledRegex(pattern) }
    }

    /// Unanchored search, as `Regex.firstMatch(in:)`.
    func matches(_ s: String) -> Bool {
        lock.withLock { (try? regex.firstMatch(in: s)) != nil }
    }
}
