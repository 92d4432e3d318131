import Glibc

/// A point in monotonic time by which a registry call must be answered.
public struct Deadline: Sendable, Comparable {
    public let uptime: Double

    public init(uptime: Double) { self.uptime = uptime }

    public static func after(seconds: Double) -> Deadline { Deadline(uptime: now() + seconds) }

    public var remaining: Double { uptime - Self.now() }
    public var hasPassed: Bool { remaining <= 0 }

    public static func < (a: Deadline, b: Deadline) -> Bool { a.uptime < b.uptime }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
