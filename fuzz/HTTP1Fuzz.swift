// libFuzzer entry point for the HTTP/1.1 request parser (HTTP1Session + ChunkedBody).
// Input byte 0 picks the read size (1...16 bytes per receive) so that split points are fuzzed too.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP1(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let connection = Connection()
    let sink = FuzzSink()
    var limits = ServerConfiguration.Limits()
    limits.maxBodyBytes = 4096
    limits.maxHeaderBytes = 2048
    let session = HTTP1Session(connection: connection, sink: sink, limits: limits)
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let step = Int(bytes[0] % 16) + 1
    var offset = 1
    var output: [UInt8] = []
    var responses = 0
    while offset < size {
        let n = min(step, size - offset)
        _ = session.receive(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n]))
        offset += n
        // Answer dispatched requests (bounded: one request in flight at a time on HTTP/1.1).
        for _ in 0..<64 {
            guard let stream = sink.pending.popLast() else { break }
            session.deliver(stream: stream, response: .text(200, "ok"))
            responses += 1
        }
        session.produce(into: &output, limit: 1 << 20)
    }
    // Whatever the input, the server only ever writes HTTP/1.1 responses.
    if !output.isEmpty && !output.starts(with: Array("HTTP/1.1 ".utf8)) {
        fatalError("output does not start with a status line")
    }
    if sink.pending.count > 1 { fatalError("more than one request dispatched at once on HTTP/1.1") }
    _ = responses
    return 0
}
