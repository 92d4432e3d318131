import Foundation
import Metrics

/// A bounded map with per-entry expiry: oldest entries go first when entries or bytes overflow.
final class TTLCache<Key: Hashable, Value>: @unchecked Sendable {
    private struct Entry {
        var value: Value
        var expires: Double
        var cost: Int
    }

    private let lock = NSLock()
    private var entries: [Key: Entry] = [:]
    private var order: [Key] = []
    private var totalCost = 0
    private let maxEntries: Int
    private let maxCost: Int
    private let hits: Counter
    private let misses: Counter
    private let evictions: Counter

    /// `name` labels the cache in `sealgate_registry_cache_{hits,misses,evictions}_total`.
    init(name: String, maxEntries: Int, maxCost: Int = .max) {
        self.maxEntries = max(1, maxEntries)
        self.maxCost = maxCost
        hits = Counter(label: "sealgate_registry_cache_hits_total", dimensions: [("cache", name)])
        misses = Counter(label: "sealgate_registry_cache_misses_total", dimensions: [("cache", name)])
        evictions = Counter(label: "sealgate_registry_cache_evictions_total", dimensions: [("cache", name)])
    }

    func get(_ key: Key) -> Value? {
        lock.lock(); defer { lock.unlock() }
        guard let entry = entries[key], entry.expires > Deadline.now() else {
            if entries[key] != nil { remove(key) }
            misses.increment()
            return nil
        }
        hits.increment()
        return entry.value
    }

    func set(_ key: Key, _ value: Value, ttl: Double, cost: Int = 0) {
        guard ttl > 0, cost <= maxCost else { return }
        lock.lock(); defer { lock.unlock() }
        if entries[key] != nil { remove(key) }
        entries[key] = Entry(value: value, expires: Deadline.now() + ttl, cost: cost)
        order.append(key)
        totalCost += cost
        while entries.count > maxEntries || totalCost > maxCost, let oldest = order.first {
            remove(oldest)
            evictions.increment()
        }
    }

    func removeAll() {
        lock.lock(); defer { lock.unlock() }
        entries = [:]
        order = []
        totalCost = 0
    }

    var count: Int {
        lock.lock(); defer { lock.unlock() }
        return entries.count
    }

    private func remove(_ key: Key) {
        if let entry = entries.removeValue(forKey: key) { totalCost -= entry.cost }
        if let i = order.firstIndex(of: key) { order.remove(at: i) }
    }
}

/// Coalesces concurrent lookups of the same key: one caller fetches, the others wait for its result.
final class SingleFlight<Key: Hashable, Value>: @unchecked Sendable {
    private final class Call {
        let done = DispatchSemaphore(value: 0)
        var result: Result<Value, Error>?
        var waiters = 0
    }

    private let lock = NSLock()
    private var calls: [Key: Call] = [:]
    private let coalesced: Counter

    /// `name` labels the lookups in `sealgate_registry_cache_coalesced_total` (callers that waited for another's fetch).
    init(name: String) {
        coalesced = Counter(label: "sealgate_registry_cache_coalesced_total", dimensions: [("cache", name)])
    }

    func run(_ key: Key, _ fetch: () throws -> Value) throws -> Value {
        lock.lock()
        if let call = calls[key] {
            call.waiters += 1
            lock.unlock()
            coalesced.increment()
            call.done.wait()
            return try call.result!.get()
        }
        let call = Call()
        calls[key] = call
        lock.unlock()
        let result = Result { try fetch() }
        lock.lock()
        call.result = result
        calls[key] = nil
        let waiters = call.waiters
        lock.unlock()
        for _ in 0..<(waiters + 1) { call.done.signal() }
        return try result.get()
    }
}
