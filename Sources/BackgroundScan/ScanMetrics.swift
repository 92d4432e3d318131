import Metrics
import PolicyTesting

/// The background scan's metrics: pass duration, workloads and images scanned, current results by outcome,
/// report writes, and which replica holds the lease.
public struct ScanMetrics {
    let duration = Metrics.Timer(label: "sealgate_background_scan_duration_seconds")
    let workloads = Counter(label: "sealgate_background_scan_workloads_scanned_total")
    let images = Counter(label: "sealgate_background_scan_images_scanned_total")
    let backoffs = Counter(label: "sealgate_background_scan_backoffs_total")

    /// Every family with the label sets known up front, at 0, so `/metrics` shows the scan's metrics from start-up
    /// (also when serve runs without `--background-scan`: nothing scanned is 0). The lease holder's identity is known
    /// only once a scan runs.
    public static func register() {
        let metrics = ScanMetrics()
        metrics.results([])
        for verb in Self.verbs { _ = Counter(label: "sealgate_background_scan_report_writes_total", dimensions: [("verb", verb)]) }
    }

    static let verbs = ["create", "update", "delete"]

    func results(_ outcomes: [RuleOutcome]) {
        for result in RuleResult.allCases {
            Gauge(label: "sealgate_background_scan_results", dimensions: [("result", result.rawValue)])
                .record(outcomes.filter { $0.result == result }.count)
        }
    }

    func writes(_ w: ReportReconciler.Writes) {
        for (verb, n) in zip(Self.verbs, [w.created, w.updated, w.deleted]) where n > 0 {
            Counter(label: "sealgate_background_scan_report_writes_total", dimensions: [("verb", verb)]).increment(by: n)
        }
    }

    func leader(_ identity: String, leading: Bool) {
        Gauge(label: "sealgate_background_scan_lease_holder", dimensions: [("identity", identity)]).record(leading ? 1 : 0)
    }
}
