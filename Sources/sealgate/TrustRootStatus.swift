import Foundation
import ImageVerification
import Metrics
import SigstoreTUF

/// How current the TUF-backed trust roots are, for /readyz and /metrics: the `--tuf-mirror` default and every
/// TrustRoot with `remote`/`repository` in use. A root the repository no longer refreshes keeps working; these say
/// since when, so an operator sees it before signatures start failing.
struct TrustRootStatus: Sendable {
    let mirror: TUFTrustedRoot?
    let catalog: TrustRootCatalog

    var roots: [(name: String, root: TUFTrustedRoot)] {
        (mirror.map { [("default", $0)] } ?? []) + catalog.tufRoots
    }

    /// One clause per TUF-backed root, e.g. `trust root default: verified 12 s ago`.
    var readinessDetail: String {
        roots.map { name, root in
            root.refreshIfDue()
            let state = root.status
            guard let snapshot = state.snapshot else {
                return "trust root \(name): no good root yet (\(state.lastError ?? "not fetched"))"
            }
            let age = Int(root.age() ?? 0)
            let failing = state.lastError.map { "; refresh failing: \($0)" } ?? ""
            return "trust root \(name): verified \(age) s ago\(snapshot.fromCache ? " (from cache)" : "")\(failing)"
        }.joined(separator: "; ")
    }

    /// The content hashes of the TUF-backed roots as last verified (starting a refresh where one is due, never
    /// blocking): the background scan re-evaluates when it changes.
    var fingerprint: String {
        roots.map { name, root in
            root.refreshIfDue()
            return "\(name)=\(root.status.snapshot?.root.fingerprint ?? "")"
        }.joined(separator: ",")
    }

    /// `sealgate_trust_root_age_seconds{trust_root}` (seconds since the root's TUF metadata last verified; -1 before
    /// any) and `sealgate_trust_root_refresh_failing{trust_root}` (1 while the last refresh failed), set at scrape.
    func updateMetrics() {
        for (name, root) in roots {
            let state = root.status
            Gauge(label: "sealgate_trust_root_age_seconds", dimensions: [("trust_root", name)]).record(root.age() ?? -1)
            Gauge(label: "sealgate_trust_root_refresh_failing", dimensions: [("trust_root", name)]).record(state.lastError == nil ? 0 : 1)
        }
    }
}
