import Foundation
import SealgateCore

/// Why an update or a target download was refused. Every case names the role (or target, or URL) and what was
/// wrong, because the message is what an operator reads when a trust root stops refreshing.
public enum TUFError: Error, Equatable, CustomStringConvertible, Sendable {
    /// Metadata is past its expiry relative to the update's fixed start time (freeze attack).
    case expired(role: String, expires: Date, now: Date)
    /// A version went backwards against what is already trusted (rollback / fast-forward).
    case rollback(role: String, detail: String)
    /// A version differs from the one the parent role names (mix-and-match).
    case versionMismatch(role: String, expected: Int, got: Int)
    /// Fewer valid signatures by distinct authorized keys than the threshold (arbitrary software / key compromise).
    case signatureThreshold(role: String, valid: Int, threshold: Int)
    /// Byte length differs from the length listed for the file.
    case lengthMismatch(name: String, expected: Int, got: Int)
    /// A listed hash does not match the bytes (arbitrary software / mix-and-match).
    case hashMismatch(name: String, algorithm: String)
    /// A download exceeded its byte limit (endless data).
    case tooLarge(name: String, limit: Int)
    /// JSON or metadata structure is not what the specification requires.
    case malformed(role: String, detail: String)
    /// The repository did not answer with the file (other than "no next root").
    case download(url: String, detail: String)
    case notFound(url: String)
    /// No targets role in the delegation search knows the target path.
    case unknownTarget(String)
    /// The local cache could not be read or written.
    case storage(path: String, detail: String)
    /// An operation used out of order (e.g. targets before refresh): a programming error, reported not trapped.
    case usage(String)

    public var description: String {
        switch self {
        case .expired(let role, let expires, let now):
            "\(role): metadata expired at \(RFC3339.format(expires)) (update started \(RFC3339.format(now)))"
        case .rollback(let role, let detail): "\(role): rollback refused: \(detail)"
        case .versionMismatch(let role, let expected, let got):
            "\(role): version \(got) does not match version \(expected) listed by its parent"
        case .signatureThreshold(let role, let valid, let threshold):
            "\(role): bad signature threshold: \(valid) valid signature\(valid == 1 ? "" : "s") of \(threshold) required"
        case .lengthMismatch(let name, let expected, let got): "\(name): length \(got) does not match expected length \(expected)"
        case .hashMismatch(let name, let algorithm): "\(name): \(algorithm) hash does not match"
        case .tooLarge(let name, let limit): "\(name): download exceeds its length limit of \(limit) bytes"
        case .malformed(let role, let detail): "\(role): malformed metadata: \(detail)"
        case .download(let url, let detail): "download of \(url) failed: \(detail)"
        case .notFound(let url): "\(url): not found"
        case .unknownTarget(let path): "target \(path): not listed by any trusted targets role"
        case .storage(let path, let detail): "\(path): \(detail)"
        case .usage(let detail): detail
        }
    }
}
