import Admission
import Foundation
import SealgateCore

/// Admissions first: every admission marks itself here (through the decider's context hook), and the scan waits
/// for a quiet moment before each workload — at most `maxWait`, so under steady admission load the scan still
/// creeps on, one workload per `maxWait`.
public final class AdmissionPriority: @unchecked Sendable {
    public let quietPeriod: Double
    public let maxWait: Double
    private let lock = NSLock()
    private var lastAdmission = -Double.infinity
    private var admissions = 0

    public init(quietPeriod: Double = 0.05, maxWait: Double = 1) {
        self.quietPeriod = quietPeriod
        self.maxWait = maxWait
    }

    public func admissionStarted() {
        lock.lock(); lastAdmission = MonotonicClock.now(); admissions += 1; lock.unlock()
    }

    /// Admissions seen so far.
    public var count: Int {
        lock.lock(); defer { lock.unlock() }
        return admissions
    }

    /// Returns once no admission started within `quietPeriod`, or after `maxWait`; the seconds waited.
    @discardableResult
    public func waitForQuiet() -> Double {
        let started = MonotonicClock.now()
        while true {
            lock.lock(); let last = lastAdmission; lock.unlock()
            let now = MonotonicClock.now()
            if now - last >= quietPeriod || now - started >= maxWait { return now - started }
            usleep(useconds_t(min(quietPeriod, maxWait - (now - started)) * 1e6))
        }
    }

    /// `adjust` (the admission's own context hook, if any) preceded by marking the admission.
    public func marking(_ adjust: PolicyDecider.ContextAdjustment?) -> PolicyDecider.ContextAdjustment {
        { [self] request, context in
            admissionStarted()
            await adjust?(request, &context)
        }
    }
}
