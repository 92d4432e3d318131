import Foundation
import ImagePolicy
import Metrics
import SealgateCore
import Synchronization

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
