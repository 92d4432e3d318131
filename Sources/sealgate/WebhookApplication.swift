import Admission
import Engine
import Foundation
import ImagePolicy
import HTTP2Server
import Logging
import Prometheus

/// Routes requests to the admission endpoint, probes and metrics.
final class WebhookApplication: @unchecked Sendable {
    let endpoint: AdmissionEndpoint
    let metrics: PrometheusCollectorRegistry
    let logger: Logger
    let policies: PolicyStore
    let trust: TrustRootStatus?
    weak var server: HTTPServer?

    init(endpoint: AdmissionEndpoint, metrics: PrometheusCollectorRegistry, logger: Logger, policies: PolicyStore, trust: TrustRootStatus? = nil) {
        self.endpoint = endpoint
        self.metrics = metrics
        self.logger = logger
        self.policies = policies
        self.trust = trust
    }

    /// Ready once a policy set is loaded (a later bad reload keeps the old set and stays ready) and until draining.
    /// TUF-backed trust roots are reported with their age, never made a reason to stop admitting: the last good
    /// root keeps verifying while a repository is unreachable.
    var readiness: (ready: Bool, detail: String) {
        let status = policies.currentStatus
        if server?.isDraining ?? false { return (false, "draining") }
        guard status.loaded else { return (false, "policies not loaded: \(status.lastError ?? "loading")") }
        let trustDetail = trust.map(\.readinessDetail).flatMap { $0.isEmpty ? nil : "; \($0)" } ?? ""
        if let error = status.lastError {
            return (true, "ready (\(status.policyCount) policies; last reload failed, previous set enforced: \(error)\(trustDetail))")
        }
        return (true, "ready (\(status.policyCount) policies\(trustDetail))")
    }

    /// Called on the server's event loop. An admission review is decided in a task started on this thread: with
    /// warm caches or static policies it finishes before this returns (no thread hand-off); a decision that waits on
    /// a registry or the API server responds from the thread that resumes it. Probes and metrics answer at once.
    func start(_ request: Request, respond: @escaping @Sendable (Response) -> Void) {
        guard request.path == "/validate" || request.path == "/mutate" else { return respond(handle(request)) }
        startInline { [endpoint] in
            let reply = await endpoint.handleAsync(method: request.method, contentType: request.header("content-type"), query: request.query,
                                                   body: request.body, mutating: request.path == "/mutate")
            respond(Response(status: reply.status, headers: [("content-type", reply.contentType)] + reply.headers, body: reply.body))
        }
    }

    /// Probes, metrics and unknown paths.
    func handle(_ request: Request) -> Response {
        switch request.path {
        case "/healthz":
            return probe(request) { .text(200, "ok") }
        case "/readyz":
            return probe(request) {
                let state = readiness
                return .text(state.ready ? 200 : 503, state.detail)
            }
        case "/metrics":
            return probe(request) {
                trust?.updateMetrics()
                return Response(status: 200, headers: [("content-type", "text/plain; version=0.0.4; charset=utf-8")], body: MetricFamilies.completing(metrics.emitToBuffer()))
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
