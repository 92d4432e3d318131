import Foundation
import SealgateCore

/// Progress of long CLI work on stderr — items done of the total, the rate and the time left, redrawn in place with
/// `\r` — only when stderr is a terminal: piped or redirected output (CI logs, `2>file`) and `--quiet` get nothing.
/// One per command run (`apply` over resources, `test` over test files, `save` over images).
final class ProgressLine: @unchecked Sendable {
    private let noun: String
    private let total: Int
    private let shown: Bool
    private let started = MonotonicClock.now()
    private let lock = NSLock()
    private var done = 0
    private var lastDraw = 0.0

    /// `noun` names the items (`resources`, `test files`, `images`).
    init(total: Int, noun: String, quiet: Bool) {
        self.total = total
        self.noun = noun
        shown = !quiet && total > 0 && isatty(STDERR_FILENO) == 1
    }

    /// One more item done; redrawn at most ten times a second, and for the last item.
    func advance() {
        guard shown else { return }
        lock.lock(); defer { lock.unlock() }
        done += 1
        let now = MonotonicClock.now()
        guard done == total || now - lastDraw >= 0.1 else { return }
        lastDraw = now
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line(elapsed: now - started))".utf8))
    }

    /// Clears the line, so what is printed next starts clean (the next `advance` draws it again).
    func clear() {
        guard shown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    /// `57/200 resources  12.4/s  0:12 left`.
    func line(elapsed: Double) -> String {
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let left = rate > 0 ? Duration.seconds(Int(Double(total - done) / rate)).formatted(.time(pattern: .minuteSecond)) : "?"
        return "\(done)/\(total) \(noun)  \(rate.formatted(.number.precision(.fractionLength(1))))/s  \(left) left"
    }
}
