import Foundation
import SealgateCore

/// The body of one response read as it arrives (chunked or length-delimited), for long-lived
/// responses like Kubernetes watches. One reader thread; `interrupt()` may be called from any thread.
package final class HTTPStream: @unchecked Sendable {
    package let status: Int
    package let headers: [(name: String, value: String)]
    private let connection: ClientConnection
    private var decoder: ChunkedDecoder?
    private var remaining: Int?
    private var finished = false

    init(connection: ClientConnection, head: HTTPResponse) {
        self.connection = connection
        status = head.status
        headers = head.headers
        if head.header("transfer-encoding")?.lowercased().contains("chunked") == true {
            decoder = ChunkedDecoder()
        } else if let length = head.header("content-length").flatMap(Int.init) {
            remaining = length
        }
    }

    package func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }

    /// The next body bytes (possibly empty), or nil at the end of the body. Throws `timeout` if nothing
    /// arrives by `deadline`; the stream stays usable after a timeout.
    package func read(deadline: Deadline) throws -> [UInt8]? {
        if finished { return nil }
        if remaining == 0 { finished = true; return nil }
        guard let raw = try connection.readAvailable(deadline: deadline) else {
            finished = true
            if decoder != nil || (remaining ?? 0) > 0 { throw HTTPClientError.malformed("response body truncated") }
            return nil
        }
        if var decoder {
            let out = try decoder.feed(raw)
            self.decoder = decoder
            if decoder.done { finished = true }
            return out
        }
        if let r = remaining {
            // Bytes past the announced length are not part of this response.
            let take = min(r, raw.count)
            remaining = r - take
            return Array(raw[0..<take])
        }
        return raw
    }

    /// The rest of the body, up to `maxBody` bytes (for short error replies).
    package func readAll(maxBody: Int, deadline: Deadline) throws -> [UInt8] {
        var body: [UInt8] = []
        while let part = try read(deadline: deadline) {
            body += part
            if body.count > maxBody { throw HTTPClientError.tooLarge(body.count) }
        }
        return body
    }

    package func interrupt() { connection.interrupt() }
}

/// Incremental `Transfer-Encoding: chunked` decoder: bytes in any split, data out.
struct ChunkedDecoder {
    private enum State { case size, data(Int), dataEnd(Int), trailer, done }
    private var state = State.size
    private var line: [UInt8] = []
    var done: Bool { if case .done = state { return true }; return false }

    mutating func feed(_ bytes: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            switch state {
            case .done:
                return out
            case .size, .trailer:
                let b = bytes[i]; i += 1
                if b != 10 {
                    line.append(b)
                    if line.count > 4096 { throw HTTPClientError.malformed("chunk header line too long") }
                    continue
                }
                if line.last == 13 { line.removeLast() }
                let text = String(decoding: line, as: UTF8.self)
                line = []
                if case .trailer = state {
                    if text.isEmpty { state = .done }
                    continue
                }
                guard let size = Int(text.split(separator: ";").first?.trimmingCharacters(in: .whitespaces) ?? "", radix: 16), size >= 0 else {
                    throw HTTPClientError.malformed("bad chunk size \"\(text.prefix(40))\"")
                }
                state = size == 0 ? .trailer : .data(size)
            case .data(let left):
                let take = min(left, bytes.count - i)
                out += bytes[i..<(i + take)]
                i += take
                state = left - take == 0 ? .dataEnd(2) : .data(left - take)
            case .dataEnd(let left):
                let b = bytes[i]; i += 1
                guard (left == 2 && b == 13) || b == 10 else { throw HTTPClientError.malformed("chunk not followed by CRLF") }
                state = b == 10 ? .size : .dataEnd(1)
            }
        }
        return out
    }
}
