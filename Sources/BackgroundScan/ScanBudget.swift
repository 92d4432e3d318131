import Foundation
import SealgateCore

/// How fast the scan may send work to registries: a token bucket of images per second (an image not yet evaluated
/// in this pass costs one token; cached ones cost nothing), and exponential backoff per registry after trouble
/// there (429, 5xx, timeouts: the engine reports them as transient), so one failing registry does not hold up the
/// workloads of the others.
public final class ScanBudget: @unchecked Sendable {
    public let imagesPerSecond: Double
    public let burst: Double
    public let initialBackoff: Double
    public let maxBackoff: Double
    private let condition = NSCondition()
    private var tokens: Double
    private var refilled = MonotonicClock.now()
    private var backoff: [String: (seconds: Double, until: Double)] = [:]
    private var cancelled = false

    public init(imagesPerSecond: Double, burst: Double? = nil, initialBackoff: Double = 1, maxBackoff: Double = 60) {
        self.imagesPerSecond = max(0.01, imagesPerSecond)
        self.burst = max(1, burst ?? imagesPerSecond)
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        tokens = self.burst
    }

    /// Waits until `cost` tokens are available; false when cancelled.
    public func acquire(_ cost: Int) -> Bool {
        condition.lock(); defer { condition.unlock() }
        guard cost > 0 else { return !cancelled }
        while !cancelled {
            let now = MonotonicClock.now()
            tokens = min(burst, tokens + (now - refilled) * imagesPerSecond)
            refilled = now
            if tokens >= Double(min(cost, Int(burst))) {
                tokens -= Double(cost)  // a cost above the burst goes into debt, paid back before the next
                return true
            }
            let wait = max((Double(min(cost, Int(burst))) - tokens) / imagesPerSecond, 0.005)
            _ = condition.wait(until: Date().addingTimeInterval(wait))
        }
        return false
    }

    /// True while any of `registries` is backing off: its workloads wait for a later pass.
    public func isPaused(_ registries: Set<String>) -> Bool {
        condition.lock(); defer { condition.unlock() }
        let now = MonotonicClock.now()
        return registries.contains { (backoff[$0]?.until ?? 0) > now }
    }

    /// Trouble at `registry`: pause it, twice as long as last time (up to the bound). Returns the pause in seconds.
    @discardableResult
    public func backOff(_ registry: String) -> Double {
        condition.lock(); defer { condition.unlock() }
        let seconds = backoff[registry].map { min($0.seconds * 2, maxBackoff) } ?? initialBackoff
        backoff[registry] = (seconds, MonotonicClock.now() + seconds)
        return seconds
    }

    /// A clean evaluation at `registry`: its next trouble starts from the initial backoff again.
    public func succeeded(_ registry: String) {
        condition.lock(); backoff[registry] = nil; condition.unlock()
    }

    public func currentBackoff(_ registry: String) -> Double {
        condition.lock(); defer { condition.unlock() }
        return backoff[registry]?.seconds ?? 0
    }

    public func cancel() {
        condition.lock(); cancelled = true; condition.broadcast(); condition.unlock()
    }
}
