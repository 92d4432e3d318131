import Logging

/// Per-client failures (bad handshakes, protocol errors) are logged at most once per interval and
/// category, with a count of what was suppressed, so a hostile client cannot flood the log.
final class RateLimitedLog {
    private var last: [String: (time: Double, suppressed: Int)] = [:]
    private let interval: Double
    private let logger: Logger

    init(logger: Logger, interval: Double = 10) {
        self.logger = logger
        self.interval = interval
    }

    func warning(_ category: String, _ message: @autoclosure () -> String, now: Double) {
        if let entry = last[category], now - entry.time < interval {
            last[category] = (entry.time, entry.suppressed + 1)
            return
        }
        let suppressed = last[category]?.suppressed ?? 0
        last[category] = (now, 0)
        let suffix = suppressed > 0 ? " (\(suppressed) similar suppressed)" : ""
        logger.warning("\(message())\(suffix)", metadata: ["category": "\(category)"])
    }
}
