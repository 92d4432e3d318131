import KubernetesAPI
import Logging

/// Short timings so reconnects and backoff happen within a test's bounded waits.
var fastTiming: Reflector.Timing {
    var t = Reflector.Timing()
    t.watchTimeoutSeconds = 60
    t.idleTimeout = 20
    t.initialBackoff = 0.05
    t.maxBackoff = 0.5
    return t
}

let testLogger: Logger = {
    var l = Logger(label: "kube-test")
    l.logLevel = .critical
    return l
}()
