import Glibc

/// A strict RFC 8259 reader over bytes that visits a document without building it: callers read the members they
/// need and `skipValue()` the rest (still checked), so a 5 KiB AdmissionReview is decided without a tree of it.
/// Strict: invalid UTF-8, lone surrogates, bad escapes, leading zeros, trailing garbage and nesting deeper than
/// `maxDepth` are errors. Duplicate member names are the caller's choice (TUF refuses them; admission keeps the last,
/// as the API server's Go decoder does).
public struct JSONScanner {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let offset: Int
        public let reason: String
        public init(offset: Int, reason: String) {
            self.offset = offset
            self.reason = reason
        }
        public var description: String { "invalid JSON at byte \(offset): \(reason)" }
    }

    public enum Token: Sendable { case object, array, string, number, bool, null }

    public let bytes: [UInt8]
    public private(set) var offset: Int
    private let end: Int
    private let maxDepth: Int
    private var depth = 0

    /// Scans `bytes[range]` (all of `bytes` by default); checks its UTF-8 once, up front, unless a scanner already did.
    public init(_ bytes: [UInt8], range: Range<Int>? = nil, maxDepth: Int = 100, checkedUTF8: Bool = false) throws(Failure) {
        self.bytes = bytes
        let range = range ?? 0..<bytes.count
        offset = range.lowerBound
        end = range.upperBound
        self.maxDepth = maxDepth
        if !checkedUTF8, let bad = Self.firstInvalidUTF8(bytes, range) { throw Failure(offset: bad, reason: "invalid UTF-8") }
    }

    public func fail(_ reason: String) -> Failure { Failure(offset: offset, reason: reason) }

    /// The next value's kind (whitespace skipped).
    public mutating func peek() throws(Failure) -> Token {
        skipWhitespace()
        guard offset < end else { throw fail("unexpected end of input") }
        switch bytes[offset] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        default: throw fail("unexpected character")
        }
    }

    /// After the document: only whitespace may follow.
    public mutating func finish() throws(Failure) {
        skipWhitespace()
        guard offset == end else { throw fail("unexpected data after the document") }
    }

    // MARK: Containers

    /// Calls `member` with each member name; `member` must consume the value (read or skip it).
    /// (Its own loop, not `readMembers`: `readValue` recurses through it, and the deepest accepted document must
    /// build on a worker's 1 MiB stack.)
    public mutating func readObject(_ member: (inout JSONScanner, String) throws -> Void) throws {
        guard try enterObject() else { return }
        repeat {
            try memberName()
            let key = try readString()
            try nameSeparator()
            try member(&self, key)
        } while try nextMember()
    }

    /// A member name as written in the document, matched by `case "name":` patterns and `==` without building a
    /// `String` (most names are only compared, and most members skipped). Valid only during the `readMembers` call
    /// that passes it: it points into the scanned bytes. (Holding the array instead costs more than the Strings did.)
    public struct Key: CustomStringConvertible {
        /// The name's bytes between the quotes when it has no escape; else empty and `unescaped` holds it.
        fileprivate let raw: UnsafeBufferPointer<UInt8>
        fileprivate let unescaped: String?

        public var string: String { unescaped ?? String(decoding: raw, as: UTF8.self) }
        public var description: String { string }

        public static func ~= (pattern: StaticString, key: Key) -> Bool {
            pattern.withUTF8Buffer { key.equals($0) }
        }

        public static func == (key: Key, name: String) -> Bool {
            // Reads the name in place: `withUTF8` needed a mutable copy (a retain and a release per comparison).
            name.utf8.withContiguousStorageIfAvailable { key.equals($0) } ?? (key.string == name)
        }

        private func equals(_ other: UnsafeBufferPointer<UInt8>) -> Bool {
            if let unescaped { return unescaped.utf8.elementsEqual(other) }
            guard raw.count == other.count else { return false }
            guard let a = raw.baseAddress, let b = other.baseAddress else { return true }
            return memcmp(a, b, raw.count) == 0
        }
    }

    /// `readObject` with each name as a `Key`.
    public mutating func readMembers(_ member: (inout JSONScanner, Key) throws -> Void) throws {
        guard try enterObject() else { return }
        let storage = bytes  // `bytes` never changes: names point into this buffer while `member` runs
        try storage.withUnsafeBufferPointer { buffer in
            repeat {
                try memberName()
                let key = try readKey(buffer)
                try nameSeparator()
                try member(&self, key)
            } while try nextMember()
        }
    }

    /// At `{`: steps in; false (and past the `}`) when the object is empty.
    private mutating func enterObject() throws(Failure) -> Bool {
        try enter(UInt8(ascii: "{"))
        skipWhitespace()
        if offset < end, bytes[offset] == UInt8(ascii: "}") { offset += 1; depth -= 1; return false }
        return true
    }

    private mutating func memberName() throws(Failure) {
        skipWhitespace()
        guard offset < end, bytes[offset] == UInt8(ascii: "\"") else { throw fail("expected a member name") }
    }

    private mutating func nameSeparator() throws(Failure) {
        skipWhitespace()
        guard offset < end, bytes[offset] == UInt8(ascii: ":") else { throw fail("expected ':'") }
        offset += 1
    }

    /// After a member's value: true past a `,`, false past the closing `}`.
    private mutating func nextMember() throws(Failure) -> Bool {
        skipWhitespace()
        guard offset < end else { throw fail("unterminated object") }
        if bytes[offset] == UInt8(ascii: ",") { offset += 1; return true }
        if bytes[offset] == UInt8(ascii: "}") { offset += 1; depth -= 1; return false }
        throw fail("expected ',' or '}'")
    }

    /// At a member name's opening quote: the name, past its closing quote.
    private mutating func readKey(_ buffer: UnsafeBufferPointer<UInt8>) throws(Failure) -> Key {
        let quote = offset
        if try scanPlainString() {
            return Key(raw: UnsafeBufferPointer(rebasing: buffer[(quote + 1)..<(offset - 1)]), unescaped: nil)
        }
        offset = quote
        return Key(raw: UnsafeBufferPointer(rebasing: buffer[0..<0]), unescaped: try readString())
    }

    /// Calls `element` for each element; `element` must consume it.
    public mutating func readArray(_ element: (inout JSONScanner) throws -> Void) throws {
        try enter(UInt8(ascii: "["))
        skipWhitespace()
        if offset < end, bytes[offset] == UInt8(ascii: "]") { offset += 1; depth -= 1; return }
        while true {
            try element(&self)
            skipWhitespace()
            guard offset < end else { throw fail("unterminated array") }
            if bytes[offset] == UInt8(ascii: ",") { offset += 1; continue }
            if bytes[offset] == UInt8(ascii: "]") { offset += 1; depth -= 1; return }
            throw fail("expected ',' or ']'")
        }
    }

    private mutating func enter(_ opening: UInt8) throws(Failure) {
        skipWhitespace()
        guard offset < end, bytes[offset] == opening else {
            throw fail(opening == UInt8(ascii: "{") ? "expected an object" : "expected an array")
        }
        guard depth < maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
        depth += 1
        offset += 1
    }

    /// Checks and steps over one value of any kind; returns the byte range it occupied. One loop over the buffer with
    /// an explicit stack instead of recursion and closures; whitespace, plain strings (eight bytes at a time) and
    /// structure are handled inline, numbers, literals and escaped strings by the scalar readers (which also give the
    /// exact error offsets). Skipping is most of what the admission path does with a request.
    @discardableResult
    public mutating func skipValue() throws(Failure) -> Range<Int> {
        skipWhitespace()
        let start = offset
        let bytes = self.bytes  // the loop reads its own reference, so the scalar readers may update `offset` meanwhile
        try bytes.withUnsafeBufferPointer { (buffer) throws(Failure) in try skipLoop(buffer) }
        return start..<offset
    }

    private mutating func skipLoop(_ buf: UnsafeBufferPointer<UInt8>) throws(Failure) {
        var stack = ContainerStack()
        var state = SkipState.value
        var i = offset
        let end = self.end
        func whitespace() {
            while i < end, buf[i] == 0x20 || buf[i] == 0x0A || buf[i] == 0x0D || buf[i] == 0x09 { i += 1 }
        }
        func failure(_ reason: String) -> Failure { Failure(offset: i, reason: reason) }
        // At an opening quote: past the closing one.
        func string() throws(Failure) {
            let quote = i
            i = Self.plainRun(UnsafeRawBufferPointer(buf), from: i + 1, end: end)
            if i < end, buf[i] == UInt8(ascii: "\"") { i += 1; return }
            // An escape, a control byte or the end: the string reader steps over it or says what is wrong.
            offset = quote
            try skipString()
            i = offset
        }
        while true {
            whitespace()
            guard i < end else { throw failure("unexpected end of input") }
            let b = buf[i]
            switch state {
            case .value:
                switch b {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    guard depth + stack.count < maxDepth else { throw failure("nesting deeper than \(maxDepth)") }
                    stack.push(object: b == UInt8(ascii: "{"))
                    i += 1
                    state = b == UInt8(ascii: "{") ? .keyOrEnd : .valueOrEnd
                    continue
                case UInt8(ascii: "\""): try string()
                default:
                    offset = i
                    switch b {
                    case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try readBool()
                    case UInt8(ascii: "n"): try readNull()
                    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try scanNumber()
                    default: throw failure("unexpected character")
                    }
                    i = offset
                }
                state = .afterValue
            case .keyOrEnd, .key:
                if state == .keyOrEnd, b == UInt8(ascii: "}") { i += 1; stack.pop(); state = .afterValue; break }
                guard b == UInt8(ascii: "\"") else { throw failure("expected a member name") }
                try string()
                whitespace()
                guard i < end, buf[i] == UInt8(ascii: ":") else { throw failure("expected ':'") }
                i += 1
                state = .value
                continue
            case .valueOrEnd:
                if b == UInt8(ascii: "]") { i += 1; stack.pop(); state = .afterValue; break }
                state = .value
                continue
            case .afterValue:
                break
            }
            // After a complete value: done at the top, else a separator or the end of the enclosing container.
            guard let inObject = stack.top else { offset = i; return }
            whitespace()
            guard i < end else { throw failure(inObject ? "unterminated object" : "unterminated array") }
            switch buf[i] {
            case UInt8(ascii: ","): i += 1; state = inObject ? .key : .value
            case UInt8(ascii: "}") where inObject, UInt8(ascii: "]") where !inObject:
                i += 1
                stack.pop()
                if stack.count == 0 { offset = i; return }
                state = .afterValue
            default: throw failure(inObject ? "expected ',' or '}'" : "expected ',' or ']'")
            }
        }
    }

    private enum SkipState { case value, keyOrEnd, key, valueOrEnd, afterValue }

    /// The kinds of the containers `skipValue` is inside, as bits (1: object) for the innermost 64 levels, deeper ones
    /// in an array: an array per skipped value was most of the allocations of a request.
    private struct ContainerStack {
        private(set) var count = 0
        private var bits: UInt64 = 0
        private var deeper: [Bool] = []

        mutating func push(object: Bool) {
            if count < 64 {
                if object { bits |= 1 << UInt64(count) } else { bits &= ~(1 << UInt64(count)) }
            } else {
                deeper.append(object)
            }
            count += 1
        }

        mutating func pop() {
            count -= 1
            if count >= 64 { deeper.removeLast() }
        }

        /// Whether the innermost container is an object; nil outside all.
        var top: Bool? {
            guard count > 0 else { return nil }
            return count <= 64 ? bits & (1 << UInt64(count - 1)) != 0 : deeper.last
        }
    }

    // MARK: Scalars

    public mutating func readBool() throws(Failure) -> Bool {
        skipWhitespace()
        if literal("true") { return true }
        if literal("false") { return false }
        throw fail("expected a boolean")
    }

    public mutating func readNull() throws(Failure) {
        skipWhitespace()
        guard literal("null") else { throw fail("expected null") }
    }

    private mutating func literal(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard offset + count <= end else { return false }
        let matches = text.withUTF8Buffer { lit in (0..<count).allSatisfy { bytes[offset + $0] == lit[$0] } }
        if matches { offset += count }
        return matches
    }

    /// A number's text and whether it is an integer (no fraction, no exponent).
    public mutating func readNumber() throws(Failure) -> (text: Substring, integral: Bool) {
        skipWhitespace()
        let start = offset
        let integral = try scanNumber()
        return (Substring(decoding: bytes[start..<offset], as: UTF8.self), integral)
    }

    /// Steps over a number, checking its grammar and that it fits a Double (integers stay exact for callers that
    /// want them; no reader may skip what another refuses); returns whether it is an integer.
    private mutating func scanNumber() throws(Failure) -> Bool {
        let start = offset
        var integral = true
        if offset < end, bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        guard offset < end, isDigit(bytes[offset]) else { throw fail("invalid number") }
        if bytes[offset] == UInt8(ascii: "0") {
            offset += 1
            if offset < end, isDigit(bytes[offset]) { throw fail("leading zero in number") }
        } else {
            skipDigits()
        }
        if offset < end, bytes[offset] == UInt8(ascii: ".") {
            integral = false
            offset += 1
            guard offset < end, isDigit(bytes[offset]) else { throw fail("invalid fraction") }
            skipDigits()
        }
        if offset < end, bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
            integral = false
            offset += 1
            if offset < end, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            guard offset < end, isDigit(bytes[offset]) else { throw fail("invalid exponent") }
            skipDigits()
        }
        if !integral || offset - start > 15, !(Double(Substring(decoding: bytes[start..<offset], as: UTF8.self))?.isFinite ?? false) {
            throw Failure(offset: start, reason: "number out of range")
        }
        return integral
    }

    private mutating func skipDigits() { while offset < end, isDigit(bytes[offset]) { offset += 1 } }
    private func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    public mutating func readString() throws(Failure) -> String {
        skipWhitespace()
        guard offset < end, bytes[offset] == UInt8(ascii: "\"") else { throw fail("expected a string") }
        let start = offset + 1
        if try scanPlainString() { return String(decoding: bytes[start..<(offset - 1)], as: UTF8.self) }
        // Escapes: the plain text before the first backslash in one copy, then each escape and the run after it.
        var out = Array(bytes[start..<offset])
        while true {
            try unescape(into: &out)
            let next = nextSpecial(from: offset)
            out.append(contentsOf: bytes[offset..<next])
            offset = next
            if try atStringEnd() { break }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Consumes a null and says so; leaves any other value in place.
    public mutating func consumeNull() throws(Failure) -> Bool {
        guard try peek() == .null else { return false }
        try readNull()
        return true
    }

    /// nil for null, else what `read` reads.
    public mutating func nullable<T>(_ read: (inout JSONScanner) throws -> T) throws -> T? {
        try consumeNull() ? nil : try read(&self)
    }

    /// A string value, or nil after stepping over a value of any other kind (as `stringValue` reads a tree).
    public mutating func stringOrSkip() throws(Failure) -> String? {
        guard try peek() == .string else { try skipValue(); return nil }
        return try readString()
    }

    private mutating func skipString() throws(Failure) {
        guard try !scanPlainString() else { return }
        var sink: [UInt8] = []
        while true {
            sink.removeAll(keepingCapacity: true)
            try unescape(into: &sink)
            offset = nextSpecial(from: offset)
            if try atStringEnd() { return }
        }
    }

    /// At the byte `nextSpecial` stopped on: steps past a closing quote (true), stays on a backslash (false), throws on
    /// a control character or the end of the input.
    private mutating func atStringEnd() throws(Failure) -> Bool {
        guard offset < end else { throw fail("unterminated string") }
        switch bytes[offset] {
        case UInt8(ascii: "\""): offset += 1; return true
        case UInt8(ascii: "\\"): return false
        default: throw fail("control character in string")
        }
    }

    /// From an opening quote: steps to just past the closing quote and returns true when the string has no escape;
    /// otherwise stops at the first backslash and returns false.
    private mutating func scanPlainString() throws(Failure) -> Bool {
        offset = nextSpecial(from: offset + 1)
        return try atStringEnd()
    }

    /// The first quote, backslash or control byte at or after `start`, or `end`.
    private func nextSpecial(from start: Int) -> Int {
        bytes.withUnsafeBufferPointer { Self.plainRun(UnsafeRawBufferPointer($0), from: start, end: end) }
    }

    /// The first quote, backslash or control byte at or after `start`, or `end`: eight bytes at a time while none is
    /// one (most of a review's text), then byte by byte for the last few.
    @inline(__always)
    static func plainRun(_ buffer: UnsafeRawBufferPointer, from start: Int, end: Int) -> Int {
        var i = start
        while i + 8 <= end {
            if let at = firstSpecial(UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: i, as: UInt64.self))) { return i + at }
            i += 8
        }
        while i < end {
            let b = buffer[i]
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b < 0x20 { return i }
            i += 1
        }
        return i
    }

    /// Where the first of the eight bytes of `word` (loaded little-endian: the first byte is the lowest) that is `"`,
    /// `\\` or below 0x20 is, or nil (the bit tricks of "Bit Twiddling Hacks": a byte is zero after the XOR, or less
    /// than 0x20, when its high bit survives the masks). A borrow can mark bytes after the first such byte, never
    /// one before it, so the lowest mark is exact.
    @inline(__always)
    static func firstSpecial(_ word: UInt64) -> Int? {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        func zeroByte(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highs }
        let quote = zeroByte(word ^ (ones &* 0x22)), backslash = zeroByte(word ^ (ones &* 0x5C))
        let control = (word &- ones &* 0x20) & ~word & highs
        let marks = quote | backslash | control
        return marks == 0 ? nil : marks.trailingZeroBitCount >> 3
    }

    /// At a backslash: appends the escaped character's UTF-8.
    private mutating func unescape(into out: inout [UInt8]) throws(Failure) {
        offset += 1
        guard offset < end else { throw fail("unterminated escape") }
        let e = bytes[offset]
        offset += 1
        switch e {
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "/"): out.append(0x2F)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800...0xDBFF).contains(scalar) {
                guard offset + 2 <= end, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") else {
                    throw fail("lone high surrogate")
                }
                offset += 2
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw fail("invalid low surrogate") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw fail("lone low surrogate")
            }
            out.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
        default: throw fail("invalid escape")
        }
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard offset + 4 <= end else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[offset]
            let d: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
            default: throw fail("invalid \\u escape")
            }
            v = v << 4 | UInt32(d)
            offset += 1
        }
        return v
    }

    private mutating func skipWhitespace() {
        guard offset < end else { return }
        let b = bytes[offset]
        guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
        offset = bytes.withUnsafeBufferPointer { buffer in
            var i = offset + 1
            while i < end, buffer[i] == 0x20 || buffer[i] == 0x0A || buffer[i] == 0x0D || buffer[i] == 0x09 { i += 1 }
            return i
        }
    }

    /// Offset of the first byte that is not well-formed UTF-8, or nil. Pure ASCII is checked byte by byte; anything
    /// else goes through the standard library's validation (and its parser, only to locate a bad sequence).
    private static func firstInvalidUTF8(_ bytes: [UInt8], _ range: Range<Int>) -> Int? {
        // Eight bytes at a time: a document is mostly ASCII.
        let firstHigh: Int? = bytes.withUnsafeBytes { raw in
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
                if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { break }
                i += 8
            }
            while i < range.upperBound { if raw[i] >= 0x80 { return i }; i += 1 }
            return nil
        }
        guard let firstHigh else { return nil }
        if String(validating: bytes[firstHigh..<range.upperBound], as: UTF8.self) != nil { return nil }
        var parser = Unicode.UTF8.ForwardParser()
        var input = bytes[firstHigh..<range.upperBound].makeIterator()
        var at = firstHigh
        while true {
            switch parser.parseScalar(from: &input) {
            case .valid(let scalar): at += scalar.count
            case .error: return at
            case .emptyInput: return nil
            }
        }
    }
}

extension JSONValue {
    /// Parses JSON bytes with `JSONScanner` (strict; a repeated member name keeps the last value).
    public static func parse(bytes: [UInt8], range: Range<Int>? = nil) throws -> JSONValue {
        var scanner = try JSONScanner(bytes, range: range, maxDepth: 512)
        let value = try scanner.readValue()
        try scanner.finish()
        return value
    }
}

extension JSONScanner {
    /// The next value as a `JSONValue` tree.
    public mutating func readValue() throws -> JSONValue {
        switch try peek() {
        case .object:
            var o: [String: JSONValue] = [:]
            try readObject { s, key in o[key] = try s.readValue() }
            return .object(o)
        case .array:
            var a: [JSONValue] = []
            try readArray { s in a.append(try s.readValue()) }
            return .array(a)
        case .string: return .string(try readString())
        case .number:
            let (text, _) = try readNumber()
            return .number(Double(text)!)
        case .bool: return .bool(try readBool())
        case .null: try readNull(); return .null
        }
    }
}
