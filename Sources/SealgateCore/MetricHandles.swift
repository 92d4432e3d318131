import Foundation
import Metrics

/// Counters and timers by label and dimensions, made once per process: `Counter(label:dimensions:)` asks the
/// metrics factory every time (a lock and a hash of the label set, and an allocation), which the warm path did
/// several times per request. Bounded: past `capacity` label sets (policy names and registry hosts are the open-ended
/// dimensions), handles are made per call as before.
public final class MetricHandles: @unchecked Sendable {
    public static let shared = MetricHandles()
    static let capacity = 10_000

    private struct Key: Hashable {
        var label: String
        var dimensions: [String]
    }

    private let lock = NSLock()
    private var counters: [Key: Counter] = [:]
    private var timers: [Key: Metrics.Timer] = [:]

    public func counter(_ label: String, _ dimensions: [(String, String)] = []) -> Counter {
        handle(label, dimensions, in: \.counters) { Counter(label: label, dimensions: dimensions) }
    }

    public func timer(_ label: String, _ dimensions: [(String, String)] = []) -> Metrics.Timer {
        handle(label, dimensions, in: \.timers) { Metrics.Timer(label: label, dimensions: dimensions) }
    }

    private func handle<H>(_ label: String, _ dimensions: [(String, String)], in table: ReferenceWritableKeyPath<MetricHandles, [Key: H]>,
                           make: () -> H) -> H {
        var names: [String] = []
        names.reserveCapacity(dimensions.count * 2)
        for (name, value) in dimensions { names.append(name); names.append(value) }
        let key = Key(label: label, dimensions: names)
        lock.lock(); defer { lock.unlock() }
        if let known = self[keyPath: table][key] { return known }
        let made = make()
        if self[keyPath: table].count < Self.capacity { self[keyPath: table][key] = made }
        return made
    }
}
