import Foundation
import SealgateCore

/// Reads the small JSON documents every verification parses (DSSE envelope, in-toto statement, cosign bundle
/// annotation, Rekor body kind) with `JSONScanner`, building no Foundation tree: `JSONSerialization` was 8% of a
/// cold verification. A reader answers only for a well-formed document whose top level is an object; for anything
/// else it answers nil and the caller reads the bytes with Foundation as before, so refusals, other encodings and
/// lenient inputs meet exactly the old code. Values read as `as? T` reads a Foundation tree: the last of repeated
/// members wins, a member of another type reads as absent.
enum ScannedJSON {
    /// Calls `member` for each member of the top-level object of `data` (it must consume the value); nil if the
    /// scanner refuses the document or its top level is not an object.
    static func object(_ data: Data, _ member: (inout JSONScanner, String) throws -> Void) -> Void? {
        do {
            var scanner = try JSONScanner(Array(data), maxDepth: 512)
            guard try scanner.peek() == .object else { return nil }
            try scanner.readObject(member)
            try scanner.finish()
            return ()
        } catch {
            return nil
        }
    }

    /// An object's members read by `member`, or nil after stepping over a value of another kind.
    static func objectOrSkip(_ s: inout JSONScanner, _ member: (inout JSONScanner, String) throws -> Void) throws -> Void? {
        guard try s.peek() == .object else { try s.skipValue(); return nil }
        try s.readObject(member)
        return ()
    }

    /// An array of objects (`as? [[String: Any]]`): each element's members read by `member`; nil when it is not an
    /// array or some element is not an object (the rest are still stepped over).
    static func objectsOrSkip(_ s: inout JSONScanner, _ element: () -> Void,
                              _ member: (inout JSONScanner, String) throws -> Void) throws -> Void? {
        guard try s.peek() == .array else { try s.skipValue(); return nil }
        var all = true
        try s.readArray { s in
            element()
            if try objectOrSkip(&s, member) == nil { all = false }
        }
        return all ? () : nil
    }

    /// `JSON.int64` of the value as Foundation reads it: a string's integer, or an integral number below 9e18
    /// (a boolean is the number 0 or 1); nil for anything else.
    static func int64OrSkip(_ s: inout JSONScanner) throws -> Int64? {
        switch try s.peek() {
        case .string: return Int64(try s.readString())
        case .bool: return try s.readBool() ? 1 : 0
        case .number:
            let (text, _) = try s.readNumber()
            guard let d = Double(text), d == d.rounded(), abs(d) < 9.0e18 else { return nil }
            return Int64(text) ?? Int64(d)
        default:
            try s.skipValue()
            return nil
        }
    }
}
