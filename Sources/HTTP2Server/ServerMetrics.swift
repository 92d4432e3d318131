import Metrics

/// Server-level metrics through swift-metrics (the executable bootstraps the Prometheus backend).
/// Handles are cached per label set; only the event-loop thread touches this.
final class ServerMetrics {
    private let knownPaths: Set<String>
    private var requestCounters: [String: Counter] = [:]
    private var durationTimers: [String: Metrics.Timer] = [:]
    private let inFlight = Gauge(label: "sealgate_http_requests_in_flight")
    private let connections = Gauge(label: "sealgate_http_connections")
    private let handshakesOK = Counter(label: "sealgate_tls_handshakes_total", dimensions: [("result", "ok")])
    private let handshakesFailed = Counter(label: "sealgate_tls_handshakes_total", dimensions: [("result", "failed")])
    private var errorCounters: [String: Counter] = [:]
    private(set) var inFlightCount = 0
    private(set) var connectionCount = 0

    /// Every `kind` of `sealgate_http_errors_total`.
    static let errorKinds = ["tls", "protocol", "timeout", "overload", "too_large", "headers_too_large", "bad_request", "max_connections"]

    /// Label sets known up front start at 0, so `/metrics` shows them before the first request.
    init(knownPaths: Set<String>) {
        self.knownPaths = knownPaths
        for kind in Self.errorKinds { errorCounters[kind] = Counter(label: "sealgate_http_errors_total", dimensions: [("kind", kind)]) }
        for path in knownPaths.union(["other"]) {
            durationTimers[path] = Metrics.Timer(label: "sealgate_http_request_duration_seconds", dimensions: [("path", path)])
        }
    }

    func pathLabel(_ path: String) -> String { knownPaths.contains(path) ? path : "other" }

    func requestStarted() {
        inFlightCount += 1
        inFlight.record(inFlightCount)
    }

    func requestFinished(path: String, status: Int, protocol proto: String, seconds: Double, dispatched: Bool) {
        if dispatched {
            inFlightCount -= 1
            inFlight.record(inFlightCount)
        }
        let label = pathLabel(path)
        let key = "\(label)|\(status)|\(proto)"
        let counter = requestCounters[key] ?? {
            let c = Counter(label: "sealgate_http_requests_total", dimensions: [("path", label), ("code", String(status)), ("protocol", proto)])
            requestCounters[key] = c
            return c
        }()
        counter.increment()
        let timer = durationTimers[label] ?? {
            let t = Metrics.Timer(label: "sealgate_http_request_duration_seconds", dimensions: [("path", label)])
            durationTimers[label] = t
            return t
        }()
        timer.recordNanoseconds(Int64(seconds * 1e9))
    }

    func connectionOpened() { connectionCount += 1; connections.record(connectionCount) }
    func connectionClosed() { connectionCount -= 1; connections.record(connectionCount) }
    func handshake(ok: Bool) { (ok ? handshakesOK : handshakesFailed).increment() }

    /// kind: one of `errorKinds`.
    func error(_ kind: String) {
        let counter = errorCounters[kind] ?? {
            let c = Counter(label: "sealgate_http_errors_total", dimensions: [("kind", kind)])
            errorCounters[kind] = c
            return c
        }()
        counter.increment()
    }
}
