import Admission
import ArgumentParser
import BackgroundScan
import Engine
import Foundation
import KubernetesAPI
import Logging

/// `serve --background-scan`: the in-cluster audit next to admission, on the same engine and caches.
struct BackgroundScanOptions: ParsableArguments {
    @Flag(help: "Scan running Pods and workload controllers with the admission policies and keep wgpolicyk8s.io PolicyReports current (needs --kube or --kubeconfig; one replica writes, chosen by a Lease).")
    var backgroundScan = envFlag("BACKGROUND_SCAN")

    @Option(help: "Seconds between full re-scans (signatures expire, keys are revoked, tags move).")
    var backgroundScanInterval = env("BACKGROUND_SCAN_INTERVAL").flatMap(Double.init) ?? 3600

    @Option(help: "Comma-separated namespaces to scan (default: all).")
    var backgroundScanNamespaces = env("BACKGROUND_SCAN_NAMESPACES")

    @Option(help: "Images per second the scan may send to registries (cached images are free).")
    var backgroundScanRate = env("BACKGROUND_SCAN_RATE").flatMap(Double.init) ?? 5

    @Option(help: "Lease (namespace/name, or name in the service account's namespace) that elects the writing replica.")
    var leaseName = env("LEASE_NAME") ?? "sealgate-background-scan"

    @Option(help: "Seconds a lease holder that stopped renewing keeps the lease.")
    var leaseDuration = env("LEASE_DURATION").flatMap(Double.init) ?? 15

    @Option(help: "Seconds the holder keeps trying to renew before it stops writing (less than --lease-duration).")
    var leaseRenewDeadline = env("LEASE_RENEW_DEADLINE").flatMap(Double.init) ?? 10

    @Option(help: "Seconds between lease attempts and renewals.")
    var leaseRetryPeriod = env("LEASE_RETRY_PERIOD").flatMap(Double.init) ?? 2

    @Option(help: "This replica's name in the Lease. Default: $POD_NAME, else hostname and process id.")
    var replicaIdentity = env("REPLICA_IDENTITY") ?? ProcessInfo.processInfo.environment["POD_NAME"]

    func validate() throws {
        guard backgroundScan else { return }
        guard backgroundScanInterval >= 1 else { throw ValidationError("--background-scan-interval must be at least 1 second") }
        guard backgroundScanRate > 0 else { throw ValidationError("--background-scan-rate must be positive") }
        guard leaseRetryPeriod > 0, leaseRenewDeadline > leaseRetryPeriod, leaseDuration > leaseRenewDeadline else {
            throw ValidationError("lease timing must satisfy --lease-duration > --lease-renew-deadline > --lease-retry-period > 0")
        }
    }

    /// The admission-side mark that gives admissions priority over the scan (passed to the decider's context hook).
    func priority() -> AdmissionPriority? { backgroundScan ? AdmissionPriority() : nil }

    /// Starts the scanner when `--background-scan` is given; it needs the cluster connection.
    func start(cluster: ClusterWiring?, engine: Engine, trust: TrustRootStatus, priority: AdmissionPriority?, timeout: Double, tagTTL: Double,
               credentials: PolicyDecider.CredentialLookup?, logger: Logger) throws -> BackgroundScanner? {
        guard backgroundScan, let priority else { return nil }
        guard let cluster else { throw ValidationError("--background-scan needs --kube (in-cluster) or --kubeconfig PATH") }
        let scanLogger = Logger(label: "sealgate.scan")
        let identity = replicaIdentity ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        let lease = leaseName.split(separator: "/", maxSplits: 1).map(String.init)
        let (leaseNamespace, leaseObject) = lease.count == 2 ? (lease[0], lease[1]) : (cluster.client.config.namespace, leaseName)
        var timing = LeaderElector.Timing()
        timing.leaseDuration = leaseDuration
        timing.renewDeadline = leaseRenewDeadline
        timing.retryPeriod = leaseRetryPeriod
        let namespaces = backgroundScanNamespaces.map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }) }
        let scanner = BackgroundScanner(
            inventory: WorkloadInventory(client: cluster.client, namespaces: namespaces, logger: scanLogger),
            elector: LeaderElector(client: cluster.client, namespace: leaseNamespace, name: leaseObject, identity: identity, timing: timing, logger: scanLogger),
            evaluator: WorkloadEvaluator(engine: engine, adjustContext: cluster.namespaceContext, credentials: credentials, timeout: timeout),
            reconciler: ReportReconciler(client: cluster.client, fieldManager: "sealgate-\(identity)", logger: scanLogger),
            store: engine.store, budget: ScanBudget(imagesPerSecond: backgroundScanRate), priority: priority,
            interval: backgroundScanInterval, tagCheckInterval: tagTTL, trustFingerprint: { trust.fingerprint }, logger: scanLogger)
        scanner.start()
        logger.info("background scan started", metadata: ["identity": "\(identity)", "lease": "\(leaseNamespace)/\(leaseObject)",
                                                          "interval": "\(backgroundScanInterval)", "namespaces": "\(backgroundScanNamespaces ?? "all")"])
        return scanner
    }
}
