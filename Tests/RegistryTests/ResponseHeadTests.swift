import Foundation
@testable import HTTP1Client
import Testing

/// The registry client's response heads are read on bytes when ASCII; the general (Foundation) reading is the
/// reference they must agree with, refusals included.
@Suite struct ResponseHeadTests {
    private func outcome(_ read: () throws -> HTTPResponse) -> String {
        do {
            let r = try read()
            return "\(r.status) " + r.headers.map { "[\($0.name)=\($0.value)]" }.joined()
        } catch {
            return "error \(error)"
        }
    }

    @Test func asciiReadingAgreesWithTheGeneralOne() {
        let heads = [
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDocker-Content-Digest: sha256:00\r\nContent-Length: 12",
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate:  \tBearer realm=\"https://r/token\",service=\"r\" \t\r\nX-Empty:\r\nX-Colon: a:b: c",
            "HTTP/1.0 204",
            "HTTP/1.1 200 OK",
            "HTTP/1.1 200 OK\r\nBad header line",
            "HTTP/1.1 abc OK\r\nA: b",
            "HTTP/2 200 OK",
            "",
            "HTTP/1.1 200 OK\r\nA: b\r",
            "HTTP/1.1 200 OK\r\nA: b\rc\r\nB:\r\r\nC: \u{0B}x\u{0B}",
            "HTTP/1.1  200 OK",
            "HTTP/1.1 302 Found\r\nLocation: /v2/x/blobs/sha256:00?x=1 2",
        ]
        for text in heads {
            let bytes = Array(text.utf8)
            #expect(outcome { try ClientConnection.asciiHead(bytes[...]) } == outcome { try ClientConnection.unicodeHead(bytes) }, "\(text.debugDescription)")
        }
        let r = try? ClientConnection.asciiHead(Array(heads[1].utf8)[...])
        #expect(r?.status == 401 && r?.header("www-authenticate") == "Bearer realm=\"https://r/token\",service=\"r\"" && r?.header("x-empty") == "")
    }
}
