import Admission
import Foundation
import HTTP2Server
import Logging
import Prometheus

/// Routes requests to the admission endpoint, probes and metrics.
final class WebhookApplication: @unchecked Sendable {
    let endpoint: AdmissionEndpoint
    let metrics: PrometheusCollectorRegistry
    let logger: Logger
    weak var server: HTTPServer?
    private let lock = NSLock()
    private var ready = false

    init(endpoint: AdmissionEndpoint, metrics: PrometheusCollectorRegistry, logger: Logger) {
        self.endpoint = endpoint
        self.metrics = metrics
        self.logger = logger
    }

    func markReady() {
        lock.lock(); ready = true; lock.unlock()
    }

    var isReady: Bool {
        lock.lock(); defer { lock.unlock() }
        return ready && !(server?.isDraining ?? false)
    }

    func handle(_ request: Request) -> Response {
        switch request.path {
        case "/validate", "/mutate":
            let reply = endpoint.handle(method: request.method, contentType: request.header("content-type"), query: request.query,
                                        body: request.body, mutating: request.path == "/mutate")
            return Response(status: reply.status, headers: [("content-type", reply.contentType)] + reply.headers, body: reply.body)
        case "/healthz":
            return probe(request) { .text(200, "ok") }
        case "/readyz":
            return probe(request) { isReady ? .text(200, "ready") : .text(503, "not ready") }
        case "/metrics":
            return probe(request) {
                Response(status: 200, headers: [("content-type", "text/plain; version=0.0.4; charset=utf-8")], body: metrics.emitToBuffer())
            }
        default:
            return .jsonError(404, "no such endpoint \(request.path); use POST /validate or /mutate")
        }
    }

    private func probe(_ request: Request, _ answer: () -> Response) -> Response {
        guard request.method == "GET" || request.method == "HEAD" else {
            var response = Response.jsonError(405, "method \(request.method) not allowed; use GET")
            response.headers.append(("allow", "GET, HEAD"))
            return response
        }
        return answer()
    }
}
