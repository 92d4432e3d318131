import Metrics
@testable import SealgateCore
import Testing

/// Metric handles are made once per label set and then reused: the registry client records a counter and a timer
/// per request, and asking the metrics factory each time cost a lock, a hash of the labels and an allocation.
struct MetricHandlesTests {
    @Test("the same label set gives the same handle; another label value, dimension name or family another")
    func reusedPerLabelSet() {
        let handles = MetricHandles()
        let first = handles.counter("requests_total", [("registry", "ghcr.io"), ("result", "200")])
        #expect(handles.counter("requests_total", [("registry", "ghcr.io"), ("result", "200")]) === first)
        #expect(handles.counter("requests_total", [("registry", "ghcr.io"), ("result", "404")]) !== first)
        #expect(handles.counter("requests_total", [("host", "ghcr.io"), ("result", "200")]) !== first)
        #expect(handles.counter("other_total", [("registry", "ghcr.io"), ("result", "200")]) !== first)
        let timer = handles.timer("duration_seconds", [("registry", "ghcr.io")])
        #expect(handles.timer("duration_seconds", [("registry", "ghcr.io")]) === timer)
    }

    @Test("past its capacity of label sets (registry hosts come from Pod specs) it makes handles without keeping them")
    func bounded() {
        let handles = MetricHandles()
        for n in 0..<MetricHandles.capacity { _ = handles.counter("requests_total", [("registry", "r\(n)")]) }
        let kept = handles.counter("requests_total", [("registry", "r0")])
        #expect(handles.counter("requests_total", [("registry", "r0")]) === kept)
        let over = handles.counter("requests_total", [("registry", "one-too-many")])
        #expect(handles.counter("requests_total", [("registry", "one-too-many")]) !== over)
    }
}
