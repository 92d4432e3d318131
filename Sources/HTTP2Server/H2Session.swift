import CNghttp2
import Foundation

/// HTTP/2 over one connection via nghttp2 (framing, HPACK, flow control); we only assemble requests.
final class H2Session: ProtocolSession {
    fileprivate final class Stream {
        var method = ""
        var path = ""
        var query = ""
        var authority = ""
        var headers: [(name: String, value: String)] = []
        var headerBytes = 0
        var body: [UInt8] = []
        /// Set once a response is submitted (locally or from the handler); later input is ignored.
        var answered = false
        var dispatched = false
        var responseBody: [UInt8] = []
        var responseOffset = 0
        /// When the request's HEADERS arrived (slow uploads are answered 408 after the read timeout).
        let startedAt = monotonicNow()
    }

    private var session: OpaquePointer!
    private var streams: [Int32: Stream] = [:]
    private unowned let connection: Connection
    private unowned let sink: RequestSink
    private let limits: ServerConfiguration.Limits
    private var shuttingDown = false
    private var fatal = false
    /// Request body bytes held for streams not yet dispatched, summed over the connection:
    /// 250 streams x 3 MiB each would otherwise be 750 MiB for one peer.
    private var bufferedBodyBytes = 0
    private var bodyBudget: Int { max(limits.maxBodyBytes, limits.maxConnectionBodyBytes) }
    let version = Request.Version.h2

    init(connection: Connection, sink: RequestSink, limits: ServerConfiguration.Limits) {
        self.connection = connection
        self.sink = sink
        self.limits = limits
        var callbacks: OpaquePointer?
        nghttp2_session_callbacks_new(&callbacks)
        defer { nghttp2_session_callbacks_del(callbacks) }
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, onBeginHeaders)
        nghttp2_session_callbacks_set_on_header_callback(callbacks, onHeader)
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, onDataChunk)
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, onFrameRecv)
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, onStreamClose)

        var option: OpaquePointer?
        nghttp2_option_new(&option)
        defer { nghttp2_option_del(option) }
        // Bounds against abusive peers (rapid reset, CONTINUATION floods, SETTINGS floods).
        nghttp2_option_set_stream_reset_rate_limit(option, 1000, 33)
        nghttp2_option_set_max_continuations(option, 8)
        nghttp2_option_set_max_settings(option, 32)
        nghttp2_option_set_max_outbound_ack(option, 1000)

        var raw: OpaquePointer?
        nghttp2_session_server_new2(&raw, callbacks, Unmanaged.passUnretained(self).toOpaque(), option)
        session = raw

        var settings = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue), value: UInt32(limits.maxConcurrentStreams)),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: 1 << 20),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue), value: UInt32(limits.maxHeaderBytes)),
        ]
        nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &settings, settings.count)
        // Connection-level window: room for many concurrent AdmissionReviews in flight.
        nghttp2_session_set_local_window_size(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, 16 << 20)
    }

    deinit { nghttp2_session_del(session) }

    var isFinished: Bool {
        fatal || (nghttp2_session_want_read(session) == 0 && nghttp2_session_want_write(session) == 0)
    }

    var hasOpenRequests: Bool { !streams.isEmpty }

    func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let rc = nghttp2_session_mem_recv(session, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
        if rc < 0 {
            fatal = true
            connection.protocolError("HTTP/2: \(String(cString: nghttp2_strerror(Int32(rc))))")
            return false
        }
        return true
    }

    func produce(into out: inout [UInt8], limit: Int) {
        while out.count < limit {
            var data: UnsafePointer<UInt8>?
            let n = nghttp2_session_mem_send(session, &data)
            if n < 0 {
                fatal = true
                connection.protocolError("HTTP/2 send: \(String(cString: nghttp2_strerror(Int32(n))))")
                return
            }
            guard n > 0, let data else { return }
            out.append(contentsOf: UnsafeBufferPointer(start: data, count: n))
        }
    }

    func deliver(stream id: Int32, response: Response) {
        // The peer may have reset the stream while the handler ran.
        guard let stream = streams[id], !stream.answered else { return }
        submit(response, on: id, stream: stream)
    }

    /// First of two GOAWAYs (as RFC 9113 §6.8 suggests): tells the peer to stop opening streams
    /// while those already on the wire are still accepted.
    func beginShutdown() {
        guard !shuttingDown else { return }
        shuttingDown = true
        nghttp2_submit_shutdown_notice(session)
    }

    /// The final GOAWAY, a round trip later: streams above the last processed one are refused.
    func finishShutdown() {
        nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nghttp2_session_get_last_proc_stream_id(session),
                              NGHTTP2_NO_ERROR.rawValue, nil, 0)
    }

    // MARK: - Requests

    private func submit(_ response: Response, on id: Int32, stream: Stream) {
        stream.answered = true
        stream.responseBody = response.body
        stream.responseOffset = 0
        var fields: [(String, String)] = [(":status", String(response.status))]
        for header in response.headers {
            let name = header.name.lowercased()
            if !connectionSpecificHeaders.contains(name) { fields.append((name, header.value)) }
        }
        fields.append(("content-length", String(response.body.count)))
        var provider = nghttp2_data_provider(source: nghttp2_data_source(ptr: Unmanaged.passUnretained(stream).toOpaque()),
                                             read_callback: readResponseBody)
        let rc = withHeaderFields(fields) { nva in
            response.body.isEmpty
                ? nghttp2_submit_response(session, id, nva.baseAddress, nva.count, nil)
                : nghttp2_submit_response(session, id, nva.baseAddress, nva.count, &provider)
        }
        if rc != 0 { nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), id, NGHTTP2_INTERNAL_ERROR.rawValue) }
    }

    /// Answers a request the handler never sees and, if it is still uploading, stops the upload.
    private func reject(_ id: Int32, _ stream: Stream, status: Int, message: String) {
        sink.answeredLocally(path: stream.path, status: status, version: .h2, reason: message)
        submit(Response.jsonError(status, message), on: id, stream: stream)
    }

    private func requestComplete(_ id: Int32) {
        guard let stream = streams[id], !stream.answered, !stream.dispatched else { return }
        if stream.method.isEmpty || stream.path.isEmpty {
            reject(id, stream, status: 400, message: "missing :method or :path")
            return
        }
        // Streams the peer reset do not count against MAX_CONCURRENT_STREAMS, but their handlers keep
        // running: without this cap, open+RST_STREAM in a loop (CVE-2023-44487) queues unbounded work.
        if connection.pendingHandlers >= limits.maxConcurrentStreams {
            dropBody(stream)
            reject(id, stream, status: 503, message: "too many requests in progress on this connection")
            return
        }
        stream.dispatched = true
        let request = Request(method: stream.method, path: stream.path, query: stream.query, headers: stream.headers,
                              body: stream.body, version: .h2, remoteAddress: connection.remoteAddress)
        dropBody(stream)
        sink.dispatch(request, stream: id, connection: connection)
    }

    // MARK: - nghttp2 callbacks (bodies; the C entry points below forward here)

    fileprivate func beginHeaders(_ id: Int32) {
        streams[id] = Stream()
    }

    /// Counts a header's size before it is decoded into Strings: an HPACK bomb (one table entry
    /// referenced thousands of times) must not cost an allocation per reference once over the limit.
    fileprivate func admitHeader(_ id: Int32, size: Int) -> Bool {
        guard let stream = streams[id] else { return false }
        stream.headerBytes += size + 32
        if stream.headerBytes > limits.maxHeaderBytes {
            if !stream.answered { reject(id, stream, status: 431, message: "request headers exceed \(limits.maxHeaderBytes) bytes") }
            return false
        }
        return !stream.answered
    }

    fileprivate func header(_ id: Int32, name: String, value: String) -> Bool {
        guard let stream = streams[id] else { return true }
        switch name {
        case ":method": stream.method = value
        case ":path":
            if let q = value.firstIndex(of: "?") {
                stream.path = String(value[..<q])
                stream.query = String(value[value.index(after: q)...])
            } else {
                stream.path = value
            }
        case ":authority": stream.authority = value
        case ":scheme": break
        default:
            stream.headers.append((name, value))
            if name == "content-length", let length = Int(value), length > limits.maxBodyBytes, !stream.answered {
                reject(id, stream, status: 413, message: "request body of \(length) bytes exceeds the limit of \(limits.maxBodyBytes)")
            }
        }
        return true
    }

    fileprivate func data(_ id: Int32, _ bytes: UnsafeBufferPointer<UInt8>) {
        guard let stream = streams[id], !stream.answered else { return }
        if stream.body.count + bytes.count > limits.maxBodyBytes {
            dropBody(stream)
            reject(id, stream, status: 413, message: "request body exceeds the limit of \(limits.maxBodyBytes) bytes")
            return
        }
        if bufferedBodyBytes + bytes.count > bodyBudget {
            dropBody(stream)
            reject(id, stream, status: 503, message: "too much unfinished request data on this connection")
            return
        }
        bufferedBodyBytes += bytes.count
        stream.body.append(contentsOf: bytes)
    }

    private func dropBody(_ stream: Stream) {
        bufferedBodyBytes -= stream.body.count
        stream.body = []
    }

    fileprivate func frameReceived(_ frame: UnsafePointer<nghttp2_frame>) {
        let hd = frame.pointee.hd
        let endStream = hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
        let type = UInt32(hd.type)
        if endStream && (type == NGHTTP2_HEADERS.rawValue || type == NGHTTP2_DATA.rawValue) {
            requestComplete(hd.stream_id)
        }
    }

    fileprivate func streamClosed(_ id: Int32) {
        guard let stream = streams.removeValue(forKey: id) else { return }
        dropBody(stream)
        if stream.dispatched, !stream.answered { connection.abandoned(stream: id) }
    }

    func expireIncompleteRequests(startedBefore cutoff: Double) -> Bool {
        var answered = false
        for (id, stream) in streams where !stream.dispatched && !stream.answered && stream.startedAt < cutoff {
            dropBody(stream)
            reject(id, stream, status: 408, message: "request not received in time")
            answered = true
        }
        return answered
    }

    /// A response is waiting only for the peer to grant flow-control window (slow-read / zero-window
    /// peers): the event loop closes such a connection after the write timeout, as for a full socket.
    var isFlowControlBlocked: Bool {
        let connectionWindow = nghttp2_session_get_remote_window_size(session)
        for (id, stream) in streams where stream.answered && stream.responseOffset < stream.responseBody.count {
            if connectionWindow <= 0 || nghttp2_session_get_stream_remote_window_size(session, id) <= 0 { return true }
        }
        return false
    }

    fileprivate func readBody(_ stream: Stream, into buffer: UnsafeMutablePointer<UInt8>, length: Int, flags: UnsafeMutablePointer<UInt32>) -> Int {
        let remaining = stream.responseBody.count - stream.responseOffset
        let n = min(remaining, length)
        stream.responseBody.withUnsafeBufferPointer { src in
            buffer.update(from: src.baseAddress! + stream.responseOffset, count: n)
        }
        stream.responseOffset += n
        if stream.responseOffset == stream.responseBody.count {
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
            stream.responseBody = []
            stream.responseOffset = 0
        }
        return n
    }
}

/// Calls `body` with nghttp2 name/value pairs pointing into one contiguous buffer (nghttp2 copies them).
private func withHeaderFields<R>(_ fields: [(String, String)], _ body: (UnsafeMutableBufferPointer<nghttp2_nv>) -> R) -> R {
    var storage: [UInt8] = []
    var ranges: [(Int, Int, Int, Int)] = []
    for (name, value) in fields {
        let n = storage.count
        storage.append(contentsOf: name.utf8)
        let v = storage.count
        storage.append(contentsOf: value.utf8)
        ranges.append((n, v - n, v, storage.count - v))
    }
    storage.append(0) // never empty, so the base address exists
    return storage.withUnsafeMutableBufferPointer { buf in
        let base = buf.baseAddress!
        var nva = ranges.map { r in
            nghttp2_nv(name: base + r.0, value: base + r.2, namelen: r.1, valuelen: r.3, flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
        }
        return nva.withUnsafeMutableBufferPointer { body($0) }
    }
}

private func session(_ userData: UnsafeMutableRawPointer?) -> H2Session {
    Unmanaged<H2Session>.fromOpaque(userData!).takeUnretainedValue()
}

private let onBeginHeaders: nghttp2_on_begin_headers_callback = { _, frame, userData in
    guard let frame, frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue),
          frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST else { return 0 }
    session(userData).beginHeaders(frame.pointee.hd.stream_id)
    return 0
}

private let onHeader: nghttp2_on_header_callback = { _, frame, name, namelen, value, valuelen, _, userData in
    guard let frame, let name, let value else { return 0 }
    let owner = session(userData)
    guard owner.admitHeader(frame.pointee.hd.stream_id, size: namelen + valuelen) else { return 0 }
    let n = String(decoding: UnsafeBufferPointer(start: name, count: namelen), as: UTF8.self)
    let v = String(decoding: UnsafeBufferPointer(start: value, count: valuelen), as: UTF8.self)
    _ = owner.header(frame.pointee.hd.stream_id, name: n, value: v)
    return 0
}

private let onDataChunk: nghttp2_on_data_chunk_recv_callback = { _, _, streamID, data, len, userData in
    guard let data else { return 0 }
    session(userData).data(streamID, UnsafeBufferPointer(start: data, count: len))
    return 0
}

private let onFrameRecv: nghttp2_on_frame_recv_callback = { _, frame, userData in
    if let frame { session(userData).frameReceived(frame) }
    return 0
}

private let onStreamClose: nghttp2_on_stream_close_callback = { _, streamID, _, userData in
    session(userData).streamClosed(streamID)
    return 0
}

private let readResponseBody: nghttp2_data_source_read_callback = { _, _, buffer, length, flags, source, userData in
    guard let buffer, let flags, let ptr = source?.pointee.ptr else { return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue) }
    let stream = Unmanaged<AnyObject>.fromOpaque(ptr).takeUnretainedValue()
    return session(userData).readBodyErased(stream, into: buffer, length: length, flags: flags)
}

extension H2Session {
    fileprivate func readBodyErased(_ object: AnyObject, into buffer: UnsafeMutablePointer<UInt8>, length: Int, flags: UnsafeMutablePointer<UInt32>) -> Int {
        readBody(object as! Stream, into: buffer, length: length, flags: flags)
    }
}
