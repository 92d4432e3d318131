import Foundation

/// Polls `condition` (async sleeps, never blocking the pool for long) until it holds or `timeout` passes.
public func eventually(timeout: Double = 15, _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        try? await Task.sleep(nanoseconds: 50_000_000)
    }
    return try condition()
}
