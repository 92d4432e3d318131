// Stand-ins so that HTTP1Session.swift compiles on its own into the libFuzzer binary
// (the real Connection needs sockets, TLS and the server).
final class Connection {
    let remoteAddress = "fuzz"
}

/// Records dispatched requests; the harness answers them like the worker pool would.
final class FuzzSink: RequestSink {
    var pending: [Int32] = []
    var local = 0
    func dispatch(_ request: Request, stream: Int32, connection: Connection) { pending.append(stream) }
    func answeredLocally(path: String, status: Int, version: Request.Version, reason: String) { local += 1 }
}
