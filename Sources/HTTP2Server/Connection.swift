/// One accepted socket: its transport, its protocol session and its pending output.
final class Connection {
    let id: UInt64
    let fd: Int32
    let remoteAddress: String
    let transport: Transport
    let acceptedAt: Double
    var session: ProtocolSession?
    var handshakeComplete = false
    /// Plain-text connections buffer their first bytes until h2's preface is recognised or ruled out.
    var sniffed: [UInt8] = []
    var output: [UInt8] = []
    var outputOffset = 0
    var lastActivity: Double
    var writeBlockedSince: Double?
    /// Since when HTTP/2 output has waited only for the peer's flow-control window.
    var flowBlockedSince: Double?
    var pollingForWrite = false
    var pendingHandlers = 0
    var closeRequested = false
    private unowned let server: HTTPServer

    init(id: UInt64, fd: Int32, remoteAddress: String, transport: Transport, now: Double, server: HTTPServer) {
        self.id = id
        self.fd = fd
        self.remoteAddress = remoteAddress
        self.transport = transport
        self.acceptedAt = now
        self.lastActivity = now
        self.server = server
    }

    var hasPendingOutput: Bool { outputOffset < output.count }

    func protocolError(_ message: String) {
        server.noteProtocolError("\(remoteAddress): \(message)")
    }

    /// The peer reset a stream whose handler is still running; its answer will be dropped.
    func abandoned(stream: Int32) {}
}
