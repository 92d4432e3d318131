import Foundation

/// HTTP/1.1 with keep-alive: one request at a time, pipelined input kept in order.
final class HTTP1Session: ProtocolSession {
    private enum State {
        case head
        case body(remaining: Int)
        case chunked(ChunkedBody)
        /// Skipping an oversized body before answering 413, so the connection stays usable.
        case discard(remaining: Int, message: String)
        case awaitingResponse
        case closed
    }

    private struct Head {
        var method: String
        var path: String
        var query: String
        var headers: [(name: String, value: String)]
        var keepAlive: Bool
    }

    private var state = State.head
    private var input: [UInt8] = []
    /// Where the search for the end of the head resumes: rescanning from 0 on every read is quadratic.
    private var headScanFrom = 0
    /// When the first byte of the request now being received arrived.
    private var requestStartedAt = 0.0
    private var head: Head?
    private var body: [UInt8] = []
    private var output: [UInt8] = []
    private var closeAfterWrite = false
    private var shuttingDown = false
    private unowned let connection: Connection
    private unowned let sink: RequestSink
    private let limits: ServerConfiguration.Limits
    let version = Request.Version.http1_1

    init(connection: Connection, sink: RequestSink, limits: ServerConfiguration.Limits) {
        self.connection = connection
        self.sink = sink
        self.limits = limits
    }

    var isFinished: Bool {
        if case .closed = state { return output.isEmpty }
        if shuttingDown, case .head = state, input.isEmpty { return output.isEmpty }
        return false
    }

    var hasOpenRequests: Bool {
        if case .head = state { return !input.isEmpty }
        if case .closed = state { return false }
        return true
    }

    var isFlowControlBlocked: Bool { false }

    func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if case .closed = state { return true }
        if case .head = state, input.isEmpty { requestStartedAt = monotonicNow() }
        input.append(contentsOf: bytes)
        if case .discard = state {} else if input.count > limits.maxBodyBytes + limits.maxHeaderBytes + 65536 {
            fail(413, "request exceeds \(limits.maxBodyBytes) bytes")
            return true
        }
        parse()
        return true
    }

    func produce(into out: inout [UInt8], limit: Int) {
        guard !output.isEmpty else { return }
        out.append(contentsOf: output)
        output = []
        if closeAfterWrite { state = .closed }
    }

    func deliver(stream: Int32, response: Response) {
        guard case .awaitingResponse = state, let head else { return }
        write(response, keepAlive: head.keepAlive && !shuttingDown)
        if !closeAfterWrite {
            state = .head
            self.head = nil
            requestStartedAt = monotonicNow() // pipelined bytes, if any, start their clock now
            parse()
        }
    }

    func expireIncompleteRequests(startedBefore cutoff: Double) -> Bool {
        guard requestStartedAt < cutoff, !closeAfterWrite else { return false }
        switch state {
        case .head where !input.isEmpty: break
        case .body, .chunked, .discard: break
        default: return false
        }
        fail(408, "request not received in time")
        return true
    }

    func beginShutdown() {
        shuttingDown = true
    }

    func finishShutdown() {}

    // MARK: - Parsing

    private func parse() {
        while !closeAfterWrite {
            switch state {
            case .head:
                if shuttingDown && input.isEmpty { return }
                guard parseHead() else { return }
            case .body(let remaining):
                let n = min(remaining, input.count)
                body.append(contentsOf: input[0..<n])
                input.removeFirst(n)
                if n < remaining {
                    state = .body(remaining: remaining - n)
                    return
                }
                dispatch()
            case .chunked(var decoder):
                switch decoder.consume(&input, into: &body, limit: limits.maxBodyBytes) {
                case .needMore:
                    state = .chunked(decoder)
                    return
                case .done: dispatch()
                case .tooLarge: return fail(413, "request body exceeds the limit of \(limits.maxBodyBytes) bytes")
                case .malformed(let why): return fail(400, "malformed chunked body: \(why)")
                }
            case .discard(let remaining, let message):
                let n = min(remaining, input.count)
                input.removeFirst(n)
                if n < remaining {
                    state = .discard(remaining: remaining - n, message: message)
                    return
                }
                state = .head
                requestStartedAt = monotonicNow()
                answerLocally(413, message, keepAlive: head?.keepAlive ?? false)
            case .awaitingResponse, .closed:
                return
            }
        }
    }

    /// Parses one request head if complete; false when more bytes are needed or the connection failed.
    private func parseHead() -> Bool {
        guard let end = findHeadEnd() else {
            if input.count > limits.maxHeaderBytes { fail(431, "request headers exceed \(limits.maxHeaderBytes) bytes") }
            return false
        }
        if end > limits.maxHeaderBytes {
            fail(431, "request headers exceed \(limits.maxHeaderBytes) bytes")
            return false
        }
        // Bare CR/LF, NUL and other controls inside the head are smuggling vectors
        // (a proxy may split lines differently): refuse them outright.
        if input[0..<end].enumerated().contains(where: { i, byte in
            (byte < 32 && byte != 9 && byte != 13 && byte != 10) || byte == 127
                || (byte == 13 && (i + 1 >= end || input[i + 1] != 10))
                || (byte == 10 && (i == 0 || input[i - 1] != 13))
        }) {
            fail(400, "control character in request head")
            return false
        }
        // Lines split and checked on bytes, each field made a String once (generic collection code cost more than
        // the rest of a request). The check above leaves every CR followed by LF, so lines end exactly at CRLF.
        let headBytes = Array(input[0..<end])
        input.removeFirst(end + 4)
        headScanFrom = 0
        var requestLine: [String] = []
        var headers: [(name: String, value: String)] = []
        var malformedHeader = false
        headBytes.withUnsafeBufferPointer { head in
            var lineStart = 0
            while lineStart <= head.count {
                var lineEnd = lineStart
                while lineEnd < head.count, head[lineEnd] != 13 { lineEnd += 1 }
                let line = UnsafeBufferPointer(rebasing: head[lineStart..<lineEnd])
                if lineStart == 0 {
                    requestLine = line.split(separator: 0x20, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
                } else if let header = Self.headerField(line) {
                    headers.append(header)
                } else {
                    malformedHeader = true
                    return
                }
                lineStart = lineEnd + 2
            }
        }
        guard requestLine.count == 3, !requestLine[0].isEmpty, requestLine[0].utf8.allSatisfy(isTokenByte),
              requestLine[1].hasPrefix("/") || requestLine[1] == "*" else {
            fail(400, "malformed request line")
            return false
        }
        let httpVersion = requestLine[2]
        guard httpVersion == "HTTP/1.1" || httpVersion == "HTTP/1.0" else {
            fail(505, "unsupported HTTP version \(httpVersion)")
            return false
        }
        if malformedHeader {
            fail(400, "malformed header line")
            return false
        }
        let target = String(requestLine[1])
        let path: String, query: String
        if let q = target.firstIndex(of: "?") {
            path = String(target[..<q])
            query = String(target[target.index(after: q)...])
        } else {
            path = target
            query = ""
        }
        let connectionTokens = headers.filter { $0.name == "connection" }.map { $0.value.lowercased() }.joined(separator: ",")
        let keepAlive = httpVersion == "HTTP/1.1" ? !Self.hasToken(connectionTokens, "close") : Self.hasToken(connectionTokens, "keep-alive")
        head = Head(method: String(requestLine[0]), path: path, query: query, headers: headers, keepAlive: keepAlive)
        body = []

        // All Transfer-Encoding lines count ("chunked" then "identity" must not read as chunked).
        let encodings = headers.filter { $0.name == "transfer-encoding" }.map { $0.value.lowercased() }
        let transferEncoding = encodings.isEmpty ? nil : encodings.joined(separator: ",")
        let lengths = headers.filter { $0.name == "content-length" }.map(\.value)
        let expectsContinue = headers.contains { $0.name == "expect" && $0.value.lowercased() == "100-continue" }
        if let transferEncoding {
            // Both framings at once is a request-smuggling vector: refuse.
            guard transferEncoding == "chunked", lengths.isEmpty else {
                fail(400, "unsupported transfer-encoding \"\(transferEncoding)\"")
                return false
            }
            if expectsContinue { output.append(contentsOf: Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) }
            state = .chunked(ChunkedBody())
            return true
        }
        // Digits only: Int("+5") would parse, and a proxy may read such a length differently.
        guard Set(lengths).count <= 1, lengths.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 18 && $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }),
              let length = lengths.first.map({ Int($0) }) ?? 0, length >= 0 else {
            fail(400, "invalid content-length")
            return false
        }
        if length > limits.maxBodyBytes {
            let message = "request body of \(length) bytes exceeds the limit of \(limits.maxBodyBytes)"
            if expectsContinue || length > 4 * limits.maxBodyBytes {
                // The client holds the body back, or it is too big to skip: answer and close.
                fail(413, message)
            } else {
                state = .discard(remaining: length, message: message)
            }
            return !closeAfterWrite
        }
        if expectsContinue && length > 0 { output.append(contentsOf: Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) }
        state = .body(remaining: length)
        return true
    }

    /// `name: value` with the name lowercased and the value trimmed of spaces and tabs; nil for a malformed line.
    private static func headerField(_ line: UnsafeBufferPointer<UInt8>) -> (name: String, value: String)? {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon != 0, line[..<colon].allSatisfy(isTokenByte) else { return nil }
        let name = String(unsafeUninitializedCapacity: colon) { out in
            for i in 0..<colon { out[i] = line[i] >= 65 && line[i] <= 90 ? line[i] + 32 : line[i] }
            return colon
        }
        var from = colon + 1, to = line.count
        while from < to, line[from] == 0x20 || line[from] == 0x09 { from += 1 }
        while to > from, line[to - 1] == 0x20 || line[to - 1] == 0x09 { to -= 1 }
        return (name, String(decoding: UnsafeBufferPointer(rebasing: line[from..<to]), as: UTF8.self))
    }

    /// Whether the comma-separated list `tokens` (lowercased Connection values) holds `token` as one element, blanks
    /// around it ignored (RFC 9110 §7.6.1, as Go's net/http reads it): "x-close-notify" does not mean "close".
    private static func hasToken(_ tokens: String, _ token: String) -> Bool {
        func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
        return tokens.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: true).contains { element in
            var element = element
            while let b = element.first, isBlank(b) { element = element.dropFirst() }
            while let b = element.last, isBlank(b) { element = element.dropLast() }
            return element.elementsEqual(token.utf8)
        }
    }

    private func findHeadEnd() -> Int? {
        guard input.count >= 4 else { return nil }
        for i in min(headScanFrom, input.count - 4)...(input.count - 4)
        where input[i] == 13 && input[i + 1] == 10 && input[i + 2] == 13 && input[i + 3] == 10 {
            return i
        }
        headScanFrom = input.count - 3
        return nil
    }

    private func dispatch() {
        guard let head else { return }
        state = .awaitingResponse
        let request = Request(method: head.method, path: head.path, query: head.query, headers: head.headers,
                              body: body, version: .http1_1, remoteAddress: connection.remoteAddress)
        body = []
        sink.dispatch(request, stream: 1, connection: connection)
    }

    // MARK: - Writing

    private func answerLocally(_ status: Int, _ message: String, keepAlive: Bool) {
        sink.answeredLocally(path: head?.path ?? "", status: status, version: .http1_1, reason: message)
        write(Response.jsonError(status, message), keepAlive: keepAlive)
    }

    /// Answers with an error and closes: the byte stream can no longer be trusted.
    private func fail(_ status: Int, _ message: String) {
        answerLocally(status, message, keepAlive: false)
        input = []
        headScanFrom = 0
    }

    private func write(_ response: Response, keepAlive: Bool) {
        var text = "HTTP/1.1 \(response.status) \(reasonPhrase(response.status))\r\n"
        for header in response.headers where !connectionSpecificHeaders.contains(header.name.lowercased()) {
            text += "\(header.name): \(header.value)\r\n"
        }
        text += "content-length: \(response.body.count)\r\n"
        if !keepAlive { text += "connection: close\r\n" }
        text += "\r\n"
        output.append(contentsOf: Array(text.utf8))
        output.append(contentsOf: response.body)
        if !keepAlive { closeAfterWrite = true }
    }
}

/// Incremental decoder for `Transfer-Encoding: chunked` request bodies (trailers are skipped).
struct ChunkedBody {
    enum Step { case needMore, done, tooLarge, malformed(String) }
    private enum Phase { case size, data(Int), dataEnd, trailers }
    private var phase = Phase.size
    private var trailerBytes = 0

    mutating func consume(_ input: inout [UInt8], into body: inout [UInt8], limit: Int) -> Step {
        while true {
            switch phase {
            case .size:
                guard let lineEnd = crlf(in: input) else { return input.count > 1024 ? .malformed("chunk size line too long") : .needMore }
                let line = String(decoding: input[0..<lineEnd], as: UTF8.self)
                input.removeFirst(lineEnd + 2)
                let sizeText = line.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
                // Hex digits only: Int(_:radix:) also takes "-1" (a negative size crashed the decoder) and "+5".
                guard !sizeText.isEmpty, sizeText.count <= 8, sizeText.allSatisfy(\.isHexDigit),
                      let size = Int(sizeText, radix: 16), size >= 0 else { return .malformed("bad chunk size \"\(line)\"") }
                if size == 0 { phase = .trailers; continue }
                if body.count + size > limit { return .tooLarge }
                phase = .data(size)
            case .data(let remaining):
                let n = min(remaining, input.count)
                body.append(contentsOf: input[0..<n])
                input.removeFirst(n)
                if n < remaining { phase = .data(remaining - n); return .needMore }
                phase = .dataEnd
            case .dataEnd:
                guard input.count >= 2 else { return .needMore }
                guard input[0] == 13, input[1] == 10 else { return .malformed("chunk not followed by CRLF") }
                input.removeFirst(2)
                phase = .size
            case .trailers:
                // Trailers are skipped, but not without bound.
                guard let lineEnd = crlf(in: input) else { return input.count > 8192 ? .malformed("trailer line too long") : .needMore }
                trailerBytes += lineEnd + 2
                if trailerBytes > 16384 { return .malformed("trailers too long") }
                input.removeFirst(lineEnd + 2)
                if lineEnd == 0 { return .done }
            }
        }
    }

    private func crlf(in input: [UInt8]) -> Int? {
        guard input.count >= 2 else { return nil }
        for i in 0..<(input.count - 1) where input[i] == 13 && input[i + 1] == 10 { return i }
        return nil
    }
}

/// RFC 9110 token characters (method and header names).
/// RFC 9110 `tchar`.
func isTokenByte(_ a: UInt8) -> Bool {
    if (a >= 48 && a <= 57) || (a >= 65 && a <= 90) || (a >= 97 && a <= 122) { return true }
    return "!#$%&'*+-.^_`|~".utf8.contains(a)
}
