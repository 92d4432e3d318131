import Foundation
@testable import HTTP2Server
import Testing
import TestSupport

/// The server's own parsers under malformed input: unit checks of the chunked decoder, then the
/// seeded mutation fuzzer (Tests/Fixtures/hardening/fuzz.py) against a running server.
@Suite(.serialized)
struct ParserFuzzTests {
    func decode(_ text: String) -> ChunkedBody.Step {
        var decoder = ChunkedBody()
        var input = Array(text.utf8)
        var body: [UInt8] = []
        return decoder.consume(&input, into: &body, limit: 1 << 20)
    }

    @Test("chunk sizes must be plain hex: negative, signed and padded sizes are malformed",
          arguments: ["-1\r\nx\r\n0\r\n\r\n", "+5\r\nhello\r\n0\r\n\r\n", " 5\r\nhello\r\n0\r\n\r\n", "0x5\r\nhello\r\n0\r\n\r\n"])
    func chunkSizeIsStrict(_ text: String) {
        // "-1" used to become a negative remaining count and crash the process on a bad range.
        guard case .malformed = decode(text) else {
            Issue.record("accepted chunk framing \(text.debugDescription)")
            return
        }
    }

    @Test("well-formed chunked bodies, with extensions and trailers, still decode")
    func chunkedStillWorks() {
        var decoder = ChunkedBody()
        var input = Array("5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n".utf8)
        var body: [UInt8] = []
        guard case .done = decoder.consume(&input, into: &body, limit: 100) else {
            Issue.record("did not decode")
            return
        }
        #expect(String(decoding: body, as: UTF8.self) == "hello world")
    }

    @Test("endless trailers are refused")
    func trailersBounded() {
        let text = "0\r\n" + String(repeating: "X-T: aaaaaaaaaaaaaaaaaaaa\r\n", count: 2000)
        guard case .malformed = decode(text) else {
            Issue.record("unbounded trailers accepted")
            return
        }
    }

    @Test("seeded mutation fuzzing of HTTP/1.1 and HTTP/2: smuggling probes refused, server never dies")
    func fuzzCampaign() throws {
        let server = try Hardening.start { $0.readTimeout = 2 }
        defer { server.stop() }
        for seed in [1, 2] {
            let summary = try Hardening.python("fuzz.py", ["--port", String(server.port), "--seed", String(seed),
                                                           "--iterations", "400", "--seconds", "60"], timeout: 120)
            print("hardening fuzz: \(summary)")
            #expect(summary["down"] as? Bool == false, "\(summary)")
            #expect((summary["failures"] as? [Any])?.isEmpty == true, "\(summary)")
            #expect((summary["executions"] as? Int ?? 0) >= 100, "\(summary)")
        }
        let check = try server.curl(["--max-time", "5", server.baseURL + "/fast"], http1: true)
        #expect(check.stdout == "fast HTTP/1.1 GET\n")
    }

    @Test("a slowly dribbled 60 KB request head costs linear, not quadratic, parsing")
    func dribbledHead() throws {
        let server = try Hardening.start { $0.readTimeout = 30 }
        defer { server.stop() }
        let fd = try connectLoopback(server.port)
        defer { close(fd) }
        var head = Array("GET /fast HTTP/1.1\r\nHost: a\r\n".utf8)
        while head.count < 60_000 { head += Array("X-Pad: \(String(repeating: "p", count: 90))\r\n".utf8) }
        // 600 writes of 100 bytes; each used to rescan the whole buffered head for CRLFCRLF.
        let started = Date()
        var offset = 0
        while offset < head.count {
            let n = min(100, head.count - offset)
            _ = head[offset..<offset + n].withUnsafeBytes { send(fd, $0.baseAddress, n, Int32(MSG_NOSIGNAL)) }
            offset += n
        }
        _ = Array("\r\n".utf8).withUnsafeBytes { send(fd, $0.baseAddress, 2, Int32(MSG_NOSIGNAL)) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        #expect(n > 0 && String(decoding: buffer[0..<max(0, n)], as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        #expect(Date().timeIntervalSince(started) < 5)
    }
}

func connectLoopback(_ port: UInt16) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = port.bigEndian
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard rc == 0 else {
        close(fd)
        throw HardeningError("connect to 127.0.0.1:\(port) failed")
    }
    return fd
}
