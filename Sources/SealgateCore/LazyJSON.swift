import Foundation
import Synchronization

/// A JSON value kept as its (already checked) bytes until someone needs the tree: the admission path reads the few
/// fields a decision needs straight from the bytes, and only policies that look at the whole object pay for parsing it,
/// once per request.
public final class LazyJSON: Sendable {
    public let bytes: [UInt8]
    public let range: Range<Int>
    /// Inline in the object: an NSLock was two more allocations for each of a request's lazy values.
    private let parsed: Mutex<JSONValue?>

    /// `bytes[range]` must hold one well-formed JSON value (a `JSONScanner` has stepped over it).
    public init(checked bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        self.range = range
        parsed = Mutex(nil)
    }

    public init(_ value: JSONValue) {
        bytes = []
        range = 0..<0
        parsed = Mutex(value)
    }

    /// The whole tree, parsed on first use.
    public var value: JSONValue {
        parsed.withLock { parsed in
            if let parsed { return parsed }
            // Cannot fail: a scanner with the same grammar and depth limit accepted these bytes (JSONScannerTests).
            let value = (try? JSONValue.parse(bytes: bytes, range: range)) ?? .null
            parsed = value
            return value
        }
    }

    /// Whether the tree has been built (then readers use it instead of scanning the bytes again).
    public var parsedValue: JSONValue? { parsed.withLock { $0 } }

    /// The member at `path` (object keys), read from the bytes without building the rest; from the tree once it exists.
    public func member(at path: [String]) -> JSONValue? {
        if let tree = parsedValue {
            var value: JSONValue? = tree
            for key in path { value = value?[key] }
            return value
        }
        return scan(at: path) { s in try s.readValue() }
    }

    /// Runs `read` on a scanner at the value under `path` and returns its result (nil when the path leads nowhere).
    /// A repeated member name yields the last occurrence's result, as the tree would.
    public func scan<T>(at path: [String], _ read: (inout JSONScanner) throws -> T) -> T? {
        guard var s = try? JSONScanner(bytes, range: range, maxDepth: 512, checkedUTF8: true) else { return nil }
        return try? s.read(at: path[...], read)
    }
}

extension JSONScanner {
    /// Runs `read` at the value under `path` (object keys) from here and returns its result; nil when the path leads
    /// nowhere. A repeated member name yields the last occurrence's result, as a tree would.
    public mutating func read<T>(at path: ArraySlice<String>, _ read: (inout JSONScanner) throws -> T) throws -> T? {
        guard let first = path.first else { return try read(&self) }
        guard try peek() == .object else { try skipValue(); return nil }
        var found: T?
        try readMembers { s, key in
            if key == first { found = try s.read(at: path.dropFirst(), read) } else { try s.skipValue() }
        }
        return found
    }
}
