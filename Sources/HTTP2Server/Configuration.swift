/// Everything the server needs to listen, encrypt and stay within bounds.
public struct ServerConfiguration: Sendable {
    public struct TLS: Sendable {
        public var certificatePath: String
        public var privateKeyPath: String
        /// Optional PEM bundle of CAs whose client certificates are required (mutual TLS).
        public var clientCAPath: String?
        /// How often the certificate files are checked for changes (Kubernetes rotates mounted Secrets).
        public var reloadInterval: Double

        public init(certificatePath: String, privateKeyPath: String, clientCAPath: String? = nil, reloadInterval: Double = 1) {
            self.certificatePath = certificatePath
            self.privateKeyPath = privateKeyPath
            self.clientCAPath = clientCAPath
            self.reloadInterval = reloadInterval
        }
    }

    public struct Limits: Sendable {
        /// Largest request body accepted (the API server caps objects at 3 MiB).
        public var maxBodyBytes = 3 * 1024 * 1024
        /// Largest total size of request headers (names + values).
        public var maxHeaderBytes = 64 * 1024
        /// SETTINGS_MAX_CONCURRENT_STREAMS advertised to h2 clients.
        public var maxConcurrentStreams = 250
        public var maxConnections = 4096
        /// Close a connection with no open request after this many seconds.
        public var idleTimeout: Double = 120
        /// Give a TLS handshake, or a started request, at most this long to arrive.
        public var readTimeout: Double = 30
        /// Close a connection whose peer does not take our bytes for this long.
        public var writeTimeout: Double = 30
        /// Worker threads running handlers, and how many requests may wait for one.
        public var workerThreads = 8
        public var maxQueuedRequests = 4096
        /// Seconds per event-loop pass that starting handlers may run on the loop itself. Answers that need no I/O
        /// then cost no thread hand-off; past the budget, requests start on workers, so a burst still spreads over
        /// the cores and the loop keeps reading. 0 starts every request on a worker.
        public var inlineBudget = 0.001
        /// Request body bytes one HTTP/2 connection may hold across its unfinished streams
        /// (never less than `maxBodyBytes`); beyond it further uploads get 503.
        public var maxConnectionBodyBytes = 16 * 1024 * 1024

        public init() {}
    }

    public var host: String
    public var port: UInt16
    /// nil serves plain text (h2 prior knowledge and HTTP/1.1): local testing only.
    public var tls: TLS?
    public var limits: Limits
    /// After SIGTERM, in-flight requests get this long to finish.
    public var drainTimeout: Double
    /// Paths reported by name in metrics; any other path is counted as `other`.
    public var metricPaths: Set<String>

    public init(host: String = "0.0.0.0", port: UInt16 = 8443, tls: TLS? = nil, limits: Limits = Limits(),
                drainTimeout: Double = 25, metricPaths: Set<String> = []) {
        self.host = host
        self.port = port
        self.tls = tls
        self.limits = limits
        self.drainTimeout = drainTimeout
        self.metricPaths = metricPaths
    }
}
