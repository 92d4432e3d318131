import Foundation

/// A thread-safe map of at most `capacity` entries; the oldest insertion is evicted first. For values that only
/// save re-parsing or re-compiling identical input (keyed by that input, or its SHA-256): never for verdicts.
public final class BoundedCache<Key: Hashable & Sendable, Value>: @unchecked Sendable {
    public let capacity: Int
    private let lock = NSLock()
    private var values: [Key: Value] = [:]
    private var order: [Key] = []  // insertion order, oldest first

    public init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    public var count: Int { lock.withLock { values.count } }

    public subscript(key: Key) -> Value? { lock.withLock { values[key] } }

    /// The cached value of `key`, else `make()`'s (stored; a throw stores nothing). `make` runs outside the lock,
    /// so two threads may both make a missing value: the later insertion wins, either is correct.
    public func value(_ key: Key, _ make: () throws -> Value) rethrows -> Value {
        if let v = self[key] { return v }
        let v = try make()
        insert(v, for: key)
        return v
    }

    public func insert(_ value: Value, for key: Key) {
        lock.withLock {
            if values.updateValue(value, forKey: key) != nil { return }
            order.append(key)
            if order.count > capacity { values[order.removeFirst()] = nil }
        }
    }

    public func removeAll() { lock.withLock { values.removeAll(); order.removeAll() } }
}
