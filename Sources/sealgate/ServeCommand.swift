import Admission
import ArgumentParser
import Foundation
import HTTP2Server
import ImageVerification
import ImagePolicy
import Logging
import Metrics
import Prometheus
import Registry

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the admission webhook server (POST /validate, /mutate; GET /healthz, /readyz, /metrics).",
        discussion: "Every option can also be set by an environment variable: SEALGATE_ plus the option name in upper case with _ for - (e.g. SEALGATE_TLS_CERT).")

    @Option(help: "Listen address host:port.")
    var address = env("ADDRESS") ?? "0.0.0.0:8443"

    @Option(help: "PEM certificate chain. Without --tls-cert/--tls-key a throw-away self-signed certificate is generated.")
    var tlsCert = env("TLS_CERT")

    @Option(help: "PEM private key.")
    var tlsKey = env("TLS_KEY")

    @Option(help: "PEM CA bundle: require client certificates signed by it (mutual TLS with the API server).")
    var clientCA = env("CLIENT_CA")

    @Flag(help: "Serve h2c (prior knowledge) and HTTP/1.1 without TLS. Local testing only.")
    var plaintext = envFlag("PLAINTEXT")

    @OptionGroup var engine: EngineOptions

    @Option(help: "Append a JSON line for every denied (or, in warn/audit mode, would-be-denied) admission to this file.")
    var auditFile = env("AUDIT_FILE")

    @Option(help: "Seconds a tag's digest is cached (tags move; digests do not).")
    var tagCacheTTL = env("TAG_CACHE_TTL").flatMap(Double.init) ?? 30

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = env("LOG_LEVEL") ?? "info"

    @Option(help: "Log format: text or json (one JSON object per line).")
    var logFormat = env("LOG_FORMAT") ?? "text"

    @Option(help: "Largest accepted request body in bytes.")
    var maxBodyBytes = env("MAX_BODY_BYTES").flatMap(Int.init) ?? 3 * 1024 * 1024

    @Option(help: "HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS.")
    var maxConcurrentStreams = env("MAX_CONCURRENT_STREAMS").flatMap(Int.init) ?? 250

    @Option(help: "Maximum simultaneous connections.")
    var maxConnections = env("MAX_CONNECTIONS").flatMap(Int.init) ?? 4096

    @Option(help: "Worker threads that evaluate requests.")
    var workers = env("WORKERS").flatMap(Int.init) ?? max(4, ProcessInfo.processInfo.activeProcessorCount * 4)

    @Option(help: "Milliseconds per event-loop pass that admission decisions may start on the loop itself (a decision needing no I/O is then answered with no thread hand-off); past it, requests start on workers. 0: always on workers.")
    var inlineBudgetMs = env("INLINE_BUDGET_MS").flatMap(Double.init) ?? 1

    @Option(help: "Seconds an idle connection is kept open.")
    var idleTimeout = env("IDLE_TIMEOUT").flatMap(Double.init) ?? 120

    @Option(help: "Seconds a TLS handshake or a started request may take to arrive.")
    var readTimeout = env("READ_TIMEOUT").flatMap(Double.init) ?? 30

    @Option(help: "Seconds in-flight requests get to finish after SIGTERM.")
    var drainTimeout = env("DRAIN_TIMEOUT").flatMap(Double.init) ?? 25

    // MARK: Cluster (see ClusterWiring.swift)

    @Flag(help: "Use the Kubernetes API in-cluster (service account token and CA): Secrets named by policies, and --watch-policies.")
    var kube = envFlag("KUBE")

    @Option(help: "Use the Kubernetes API through this kubeconfig (current context) instead of in-cluster config.")
    var kubeconfig = env("KUBECONFIG")

    @Flag(help: "Watch ClusterImagePolicy, TrustRoot and Kyverno (Cluster)Policy objects and enforce them alongside --policy files; /readyz waits for the first sync.")
    var watchPolicies = envFlag("WATCH_POLICIES")

    @Option(help: "Namespace of Secrets named by policies without a namespace. Default: the service account's (or kubeconfig context's) namespace.")
    var secretNamespace = env("SECRET_NAMESPACE")

    @OptionGroup var scan: BackgroundScanOptions

    @Flag(inversion: .prefixedNo, help: "With --kube/--kubeconfig: authenticate each workload's registry reads with its own imagePullSecrets and its ServiceAccount's, read from its namespace.")
    var workloadPullSecrets = true

    @Option(name: .customLong("pull-secret-namespace"), help: "With --kube/--kubeconfig: read workloads' imagePullSecrets (and their ServiceAccounts') only in these namespaces (repeatable; default: every namespace). Match the chart's pullSecrets.namespaces.")
    var pullSecretNamespaces: [String] = env("PULL_SECRET_NAMESPACES").map { $0.split(separator: ",").map(String.init) } ?? []

    func run() throws {
        let logger = try makeLogger()
        let (host, port) = try parseAddress(address)

        var tls: ServerConfiguration.TLS?
        if !plaintext {
            if let tlsCert, let tlsKey {
                tls = .init(certificatePath: tlsCert, privateKeyPath: tlsKey, clientCAPath: clientCA)
            } else if tlsCert != nil || tlsKey != nil {
                throw ValidationError("--tls-cert and --tls-key go together")
            } else {
                let generated = try SelfSignedCertificate.generate(hosts: ["localhost", "127.0.0.1", "::1"])
                logger.warning("no --tls-cert/--tls-key given: serving a throw-away self-signed certificate", metadata: ["cert": "\(generated.certificate)"])
                tls = .init(certificatePath: generated.certificate, privateKeyPath: generated.key, clientCAPath: clientCA)
            }
        }

        var limits = ServerConfiguration.Limits()
        limits.maxBodyBytes = maxBodyBytes
        limits.maxConcurrentStreams = maxConcurrentStreams
        limits.maxConnections = maxConnections
        limits.workerThreads = workers
        guard inlineBudgetMs.isFinite, inlineBudgetMs >= 0 else { throw ValidationError("--inline-budget-ms must be 0 or more, got \(inlineBudgetMs)") }
        limits.inlineBudget = inlineBudgetMs / 1000
        limits.idleTimeout = idleTimeout
        limits.readTimeout = readTimeout
        let config = ServerConfiguration(host: host, port: port, tls: tls, limits: limits, drainTimeout: drainTimeout,
                                         metricPaths: ["/validate", "/mutate", "/healthz", "/readyz", "/metrics"])

        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        MetricFamilies.register(mode: engine.mode)

        guard engine.verification.offline == nil else { throw ValidationError("--offline is for explain, test and apply; serve reads registries") }
        let policies = engine.policies
        let policyPaths = policies.isEmpty && FileManager.default.fileExists(atPath: "policies") ? ["policies"] : policies
        guard !policyPaths.isEmpty || watchPolicies else { throw ValidationError("no policies: pass --policy FILE|DIR (or run where ./policies exists), or --watch-policies") }
        let store = PolicyStore(paths: policyPaths, logger: logger)
        store.reload()
        if !policyPaths.isEmpty { store.watch() }
        let cluster = try ClusterWiring.connect(inCluster: kube, kubeconfig: kubeconfig, secretNamespace: secretNamespace,
                                                watchPolicies: watchPolicies, store: store, logger: logger)

        var registryConfig = try engine.registry.configuration { store.current }
        registryConfig.tagTTL = tagCacheTTL
        registryConfig.credentialFallback = cluster?.pullCredentials(store: store)
        let registryClient = try RegistryClient(configuration: registryConfig)

        // Secrets named by policies (keys, CA bundles) come from the cluster (--kube/--kubeconfig); without
        // it such authorities fail closed with a message saying the secret is unavailable.
        let (decisionEngine, verifier, trust) = try engine.makeEngine(store: store, source: registryClient, secrets: cluster?.secretLookup)
        let priority = scan.priority()
        let credentials = workloadPullSecrets ? try cluster?.workloadCredentials(namespaces: pullSecretNamespaces) : nil
        let decider = PolicyDecider(engine: decisionEngine, logger: logger, audit: try auditFile.map { try AuditLog(path: $0) },
                                    adjustContext: priority.map { $0.marking(cluster?.namespaceContext) } ?? cluster?.namespaceContext,
                                    credentials: credentials)
        let scanner = try scan.start(cluster: cluster, engine: decisionEngine, trust: trust, priority: priority, timeout: engine.registry.timeout,
                                     tagTTL: tagCacheTTL, credentials: credentials, logger: logger)
        let app = WebhookApplication(endpoint: AdmissionEndpoint(decider: decider), metrics: registry, logger: logger, policies: store, trust: trust)
        let server = try HTTPServer(configuration: config, logger: logger) { request, respond in app.start(request, respond: respond) }
        app.server = server

        signal(SIGPIPE, SIG_IGN)
        let signals = [SIGTERM, SIGINT].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                logger.info("received \(number == SIGTERM ? "SIGTERM" : "SIGINT"), draining")
                server.shutdown()
            }
            source.resume()
            return source
        } + [flushCachesOnSIGUSR1(verifier: verifier, registry: registryClient, logger: logger)]
        // Tests and scripts read the bound port (with --address :0) from this line.
        FileHandle.standardOutput.write(Data("sealgate listening on \(tls == nil ? "http" : "https")://\(host.contains(":") ? "[\(host)]" : host):\(server.boundPort)\n".utf8))
        server.run()
        scanner?.stop()
        cluster?.policies?.stop()
        cluster?.namespaces.stop()
        signals.forEach { $0.cancel() }
    }

    /// `kill -USR1` empties the verification and registry caches (e.g. after rotating keys out of band).
    private func flushCachesOnSIGUSR1(verifier: VerificationCache, registry: RegistryClient, logger: Logger) -> DispatchSourceSignal {
        signal(SIGUSR1, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: .global())
        source.setEventHandler {
            verifier.flush()
            registry.flushCaches()
            logger.notice("SIGUSR1: verification and registry caches flushed")
        }
        source.resume()
        return source
    }

    private func makeLogger() throws -> Logger {
        guard let level = Logger.Level(rawValue: logLevel.lowercased()) else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        switch logFormat {
        case "json": LoggingSystem.bootstrap { label in var h = JSONLogHandler(label: label); h.logLevel = level; return h }
        case "text": LoggingSystem.bootstrap { label in var h = StreamLogHandler.standardError(label: label); h.logLevel = level; return h }
        default: throw ValidationError("--log-format must be text or json")
        }
        return Logger(label: "sealgate")
    }
}

/// Splits `host:port`, `[v6]:port` or `:port`.
func parseAddress(_ address: String) throws -> (String, UInt16) {
    guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
        throw ValidationError("--address must be host:port, got \"\(address)\"")
    }
    var host = String(address[..<colon])
    if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    return (host.isEmpty ? "0.0.0.0" : host, port)
}

func env(_ name: String) -> String? {
    ProcessInfo.processInfo.environment["SEALGATE_" + name]
}

func envFlag(_ name: String) -> Bool {
    ["1", "true", "yes"].contains(env(name)?.lowercased() ?? "")
}
