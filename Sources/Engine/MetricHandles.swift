import Foundation
import ImagePolicy
import Metrics
import Synchronization

/// Counters and timers by label and dimensions, made once per process: `Counter(label:dimensions:)` asks the
/// metrics factory every time (a lock and a hash of the label set, and an allocation), which the warm path did
/// several times per request. Bounded: past `capacity` label sets (policy names are the open-ended dimension),
/// handles are made per call as before.
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

/// Handles of one family whose label values come from small fixed sets, made (through `MetricHandles`) on first use
/// and then read by slot number: the warm path records several per request, and each `MetricHandles` lookup hashes
/// and compares every label string.
public final class MetricSlots<H: Sendable>: Sendable {
    // A `Mutex` held in a `let`: no dynamic exclusivity check per read, as a locked `var` costs.
    private let slots: Mutex<[H?]>
    private let make: @Sendable (Int) -> H

    public init(count: Int, make: @escaping @Sendable (Int) -> H) {
        slots = Mutex(Array(repeating: nil, count: count))
        self.make = make
    }

    public subscript(_ slot: Int) -> H {
        slots.withLock { slots in
            if let known = slots[slot] { return known }
            let made = make(slot)
            slots[slot] = made
            return made
        }
    }
}

/// `sealgate_policy_verdicts_total` handles by policy name: one lookup of the name per verdict, where
/// `MetricHandles` hashes the family label and all three label values (and builds an array) every time.
/// Bounded as `MetricHandles` is: past `capacity` policy names, handles come from `MetricHandles` per call.
final class PolicyVerdictCounters: Sendable {
    static let capacity = 10_000
    private let byPolicy = Mutex<[String: MetricSlots<Counter>]>([:])

    func counter(policy: String, decision: Decision, transient: Bool) -> Counter {
        let slot = Engine.slot(decision) * 2 + (transient ? 1 : 0)
        return slots(policy)[slot]
    }

    private func slots(_ policy: String) -> MetricSlots<Counter> {
        byPolicy.withLock { byPolicy in
            if let known = byPolicy[policy] { return known }
            let made = MetricSlots<Counter>(count: Decision.allCases.count * 2) { slot in
                MetricHandles.shared.counter("sealgate_policy_verdicts_total", [("policy", policy), ("decision", Decision.allCases[slot / 2].rawValue),
                                                                              ("transient", String(slot % 2 == 1))])
            }
            if byPolicy.count < Self.capacity { byPolicy[policy] = made }
            return made
        }
    }
}
