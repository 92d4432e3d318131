/// Where a protocol session sends complete requests and reports what it answered itself.
protocol RequestSink: AnyObject {
    func dispatch(_ request: Request, stream: Int32, connection: Connection)
    /// A response the session produced without the handler (413, 400, ...).
    func answeredLocally(path: String, status: Int, version: Request.Version, reason: String)
}

/// One wire protocol (HTTP/2 or HTTP/1.1) on one connection. Driven only by the event loop.
protocol ProtocolSession: AnyObject {
    /// Consume bytes read from the peer. Returns false on a fatal protocol error
    /// (whatever is queued for sending is still flushed, then the connection closes).
    func receive(_ bytes: UnsafeRawBufferPointer) -> Bool
    /// Append bytes to send, stopping near `limit` total bytes in `out`.
    func produce(into out: inout [UInt8], limit: Int)
    /// The handler's response for a request this session dispatched.
    func deliver(stream: Int32, response: Response)
    /// Stop taking new requests; finish the ones in flight.
    func beginShutdown()
    /// Called a moment after `beginShutdown`, once the peer has had time to see it.
    func finishShutdown()
    /// Nothing left to read or write: the connection can close.
    var isFinished: Bool { get }
    /// A request is partly received or waiting for its response.
    var hasOpenRequests: Bool { get }
    /// Answers (408) requests whose first bytes arrived before `cutoff` and that are still incomplete:
    /// a peer dribbling one byte at a time otherwise keeps resetting the idle clock (slowloris).
    /// Returns true when something was answered (output to flush).
    func expireIncompleteRequests(startedBefore cutoff: Double) -> Bool
    /// Output is held back only by the peer's flow-control window (HTTP/2): a slow-read signal.
    var isFlowControlBlocked: Bool { get }
    var version: Request.Version { get }
}

/// Lower-cased header names the server adds itself; handler copies are dropped.
let connectionSpecificHeaders: Set<String> = ["connection", "keep-alive", "transfer-encoding", "content-length", "upgrade", "proxy-connection"]
