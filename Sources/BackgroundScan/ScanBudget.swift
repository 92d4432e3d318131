import Foundation
import SealgateCore

/// How fast the scan may send work to registries: a token bucket of images per second (an image not yet evaluated
/// in this pass costs one token; cached ones cost nothing), and exponential backoff after registry trouble
/// (429, 5xx, timeouts: the engine reports them as transient).
public final class ScanBudget: @unchecked Sendable {
    public let imagesPerSecond: Double
    public let burst: Double
    public let initialBackoff: Double
    public let maxBackoff: Double
    private let condition = NSCondition()
    private var tokens: Double
    private var refilled = MonotonicClock.now()
    private var backoff = 0.0
    private var pausedUntil = 0.0
    private var cancelled = false

    public init(imagesPerSecond: Double, burst: Double? = nil, initialBackoff: Double = 1, maxBackoff: Double = 60) {
        self.imagesPerSecond = max(0.01, imagesPerSecond)
        self.burst = max(1, burst ?? imagesPerSecond)
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        tokens = self.burst
    }

    /// Waits until `cost` tokens are available and no backoff is in force; false when cancelled.
    public func acquire(_ cost: Int) -> Bool {
        guard cost > 0 else { return waitOutBackoff() }
        condition.lock(); defer { condition.unlock() }
        while !cancelled {
            let now = MonotonicClock.now()
            tokens = min(burst, tokens + (now - refilled) * imagesPerSecond)
            refilled = now
            if now >= pausedUntil && tokens >= Double(min(cost, Int(burst))) {
                tokens -= Double(cost)  // a cost above the burst goes into debt, paid back before the next
                return true
            }
            let forTokens = (Double(min(cost, Int(burst))) - tokens) / imagesPerSecond
            let wait = max(pausedUntil - now, forTokens, 0.005)
            _ = condition.wait(until: Date().addingTimeInterval(wait))
        }
        return false
    }

    private func waitOutBackoff() -> Bool {
        condition.lock(); defer { condition.unlock() }
        while !cancelled && MonotonicClock.now() < pausedUntil {
            _ = condition.wait(until: Date().addingTimeInterval(pausedUntil - MonotonicClock.now()))
        }
        return !cancelled
    }

    /// Registry trouble: pause, twice as long as last time (up to the bound). Returns the pause in seconds.
    @discardableResult
    public func backOff() -> Double {
        condition.lock(); defer { condition.unlock() }
        backoff = backoff == 0 ? initialBackoff : min(backoff * 2, maxBackoff)
        pausedUntil = MonotonicClock.now() + backoff
        return backoff
    }

    /// A clean evaluation: the next trouble starts from the initial backoff again.
    public func succeeded() {
        condition.lock(); backoff = 0; condition.unlock()
    }

    public var currentBackoff: Double {
        condition.lock(); defer { condition.unlock() }
        return backoff
    }

    public func cancel() {
        condition.lock(); cancelled = true; condition.broadcast(); condition.unlock()
    }
}
