import Admission
import BackgroundScan
import BuildInfo
import Engine
import Metrics

/// Every metric family `sealgate serve` exports, so that `/metrics` names each one from start-up: label sets known
/// in advance start at 0 (registered by the modules that own them), unlabeled families are created at 0 here, and a
/// family whose labels only exist at run time (registry host, policy name, status code, lease holder, trust root)
/// is announced by its `# TYPE` line until its first series — swift-prometheus renders a family only once it has one.
/// README.md's `/metrics` row names the same families (CLITests/Serve/MetricFamiliesTests compares the two).
enum MetricFamilies {
    /// Name → Prometheus type (Timers are histograms) and whether the family has labels.
    static let all: [(name: String, type: String, labeled: Bool)] = [
        ("sealgate_build_info", "gauge", true),
        ("sealgate_admission_decisions_total", "counter", true),
        ("sealgate_admission_duration_seconds", "histogram", true),
        ("sealgate_policies_loaded", "gauge", false),
        ("sealgate_policy_reloads_total", "counter", false),
        ("sealgate_policy_reload_errors_total", "counter", false),
        ("sealgate_policy_invalid_total", "counter", false),
        ("sealgate_http_requests_total", "counter", true),
        ("sealgate_http_request_duration_seconds", "histogram", true),
        ("sealgate_http_requests_in_flight", "gauge", false),
        ("sealgate_http_connections", "gauge", false),
        ("sealgate_tls_handshakes_total", "counter", true),
        ("sealgate_http_errors_total", "counter", true),
        ("sealgate_image_decisions_total", "counter", true),
        ("sealgate_policy_verdicts_total", "counter", true),
        ("sealgate_image_verification_seconds", "histogram", true),
        ("sealgate_verification_cache_hits_total", "counter", false),
        ("sealgate_verification_cache_misses_total", "counter", false),
        ("sealgate_verification_cache_evictions_total", "counter", false),
        ("sealgate_verification_cache_coalesced_total", "counter", false),
        ("sealgate_registry_requests_total", "counter", true),
        ("sealgate_registry_request_duration_seconds", "histogram", true),
        ("sealgate_registry_cache_hits_total", "counter", true),
        ("sealgate_registry_cache_misses_total", "counter", true),
        ("sealgate_registry_cache_evictions_total", "counter", true),
        ("sealgate_registry_cache_coalesced_total", "counter", true),
        ("sealgate_background_scan_duration_seconds", "histogram", false),
        ("sealgate_background_scan_workloads_scanned_total", "counter", false),
        ("sealgate_background_scan_images_scanned_total", "counter", false),
        ("sealgate_background_scan_backoffs_total", "counter", false),
        ("sealgate_background_scan_results", "gauge", true),
        ("sealgate_background_scan_report_writes_total", "counter", true),
        ("sealgate_background_scan_lease_holder", "gauge", true),
        ("sealgate_trust_root_age_seconds", "gauge", true),
        ("sealgate_trust_root_refresh_failing", "gauge", true),
    ]

    /// After `MetricsSystem.bootstrap`: the build info (value 1), the known label sets and the unlabeled families at 0.
    static func register(mode: AdmissionSettings.Mode) {
        Gauge(label: "sealgate_build_info", dimensions: BuildInfo.current.labels).record(1)
        PolicyDecider.registerMetrics(mode: mode)
        Engine.registerMetrics()
        ScanMetrics.register()
        for family in all where !family.labeled {
            switch family.type {
            case "counter": _ = Counter(label: family.name)
            case "gauge": _ = Gauge(label: family.name)
            default: _ = Metrics.Timer(label: family.name)
            }
        }
    }

    /// The scrape, with a `# TYPE` line for each family that has no series yet.
    static func completing(_ scrape: [UInt8]) -> [UInt8] {
        let typed = Set(String(decoding: scrape, as: UTF8.self).split(separator: "\n").compactMap { line -> Substring? in
            guard line.hasPrefix("# TYPE ") else { return nil }
            return line.dropFirst(7).split(separator: " ").first
        })
        var out = scrape
        for family in all where !typed.contains(Substring(family.name)) {
            out += Array("# TYPE \(family.name) \(family.type)\n".utf8)
        }
        return out
    }
}
