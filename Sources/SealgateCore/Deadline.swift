import Glibc

/// The one monotonic clock: deadlines, timeouts, cache expiry and latency metrics all read it, so they agree
/// (wall-clock time only where a certificate or log entry is dated).
public enum MonotonicClock {
    /// Seconds since an arbitrary start (CLOCK_MONOTONIC).
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// A point in monotonic time by which work must be answered: from the API server's `?timeout=` down to
/// each registry call.
public struct Deadline: Sendable, Comparable, Hashable {
    public let uptime: Double

    public init(uptime: Double) { self.uptime = uptime }

    public static func after(seconds: Double) -> Deadline { Deadline(uptime: now() + seconds) }

    public var remaining: Double { uptime - Self.now() }
    public var hasPassed: Bool { remaining <= 0 }

    /// The earlier of this deadline and one `seconds` from now.
    public func capped(seconds: Double) -> Deadline { min(self, .after(seconds: seconds)) }

    public static func < (a: Deadline, b: Deadline) -> Bool { a.uptime < b.uptime }

    public static func now() -> Double { MonotonicClock.now() }

    /// The deadline of the decision this task works for (set by the engine): the verifier port and its registry
    /// calls read it, so the API server's timeout bounds them without a parameter on every call in between.
    @TaskLocal public static var current: Deadline?
}
