import E2ESupport
import Foundation
import SealgateCore
import Testing
import TestSupport

/// `apply -o html` and `explain -o html` opened in headless Chromium: the counts and findings read back from the DOM
/// after the page's script ran, a screenshot, and hostile names and messages shown as text, never run.
@Suite(.serialized)
struct HTMLReportTests {
    static let hostileName = #"pod-7<script>document.title='pwned'</script>"#
    static let severity = ["fail": 0, "error": 1, "warn": 2, "pass": 3, "skip": 4]

    /// The text of the element with `id`, from serialized HTML.
    static func text(ofID id: String, in html: String) -> String? {
        guard let range = html.range(of: #"id="\#(id)""#), let open = html[range.upperBound...].firstIndex(of: ">"),
              let close = html[open...].firstIndex(of: "<") else { return nil }
        return String(html[html.index(after: open)..<close])
    }

    /// `data-result` of each findings row, in document order.
    static func findingResults(_ html: String) -> [String] {
        html.matches(of: /<tr class="result-[a-z]+" data-result="([a-z]+)">/).map { String($0.output.1) }
    }

    @Test("200 Pods over signed, unsigned and wrongly signed images: counts, namespaces, sorted findings and denied trees in Chromium's DOM; a screenshot")
    func applyReportInChromium() throws {
        let world = try E2EWorld("html-report")
        defer { world.stop() }
        try world.pushSigned("report/signed0")
        try world.pushSigned("report/signed1")
        try world.pushImage("report/unsigned")
        try world.pushSigned("report/wrongkey", options: world.keyed(.newP256()))
        let images = ["signed0", "signed1", "unsigned", "wrongkey"].map { world.ref("report/\($0)", ":v1") }
        let passes = { (i: Int) in i % 4 < 2 }
        let namespace = { (i: Int) in "ns\(i % 5)" }
        let pods: [JSONValue] = (0..<200).map { i in
            ["apiVersion": "v1", "kind": "Pod",
             "metadata": ["name": .string(i == 7 ? Self.hostileName : "pod-\(i)"), "namespace": .string(namespace(i))],
             "spec": ["containers": [["name": "app", "image": .string(images[i % 4])]]]]
        }
        let list = try world.write(JSONValue.object(["apiVersion": "v1", "kind": "List", "items": .array(pods)]).jsonString, to: "pods.json")
        let policy = try world.write(E2EWorld.keylessPolicy(name: "report-keyless", glob: "\(world.host)/report/**",
                                                            subjectRegExp: "^https://github.com/sealgate/.*"), to: "policy.yaml")
        let applied = try world.sealgate(["apply", "--policy", policy.path, "--cluster-json", list.path, "-o", "html"] + world.trustFlags)
        #expect(applied.status == 1 && applied.stderr.contains("100 resource(s) would be denied"), "\(applied.stderr.prefix(2000))")
        let page = try world.write(applied.stdout, to: "report.html")
        #expect(!applied.stdout.contains("<script>document") && applied.stdout.contains("&lt;script&gt;document.title"), "hostile pod name escaped")
        for external in [" src=", " href=", "<link", "@import", "url("] {
            #expect(!applied.stdout.contains(external), "self-contained: no \(external)")
        }

        let dom = try Chromium.dom(page)
        #expect(Self.text(ofID: "count-workloads", in: dom) == "200")
        #expect(Self.text(ofID: "count-images", in: dom) == "4")
        #expect(Self.text(ofID: "count-admitted", in: dom) == "\((0..<200).filter(passes).count)")
        #expect(Self.text(ofID: "count-denied", in: dom) == "\((0..<200).filter { !passes($0) }.count)")
        for ns in 0..<5 {
            let members = (0..<200).filter { namespace($0) == "ns\(ns)" }
            let admitted = members.filter(passes).count
            #expect(dom.contains(#"<tr data-namespace="ns\#(ns)"><td>ns\#(ns)</td><td>\#(members.count)</td><td>\#(admitted)</td><td>\#(members.count - admitted)</td></tr>"#),
                    "namespace ns\(ns)")
        }
        #expect(dom.contains(#"<tr data-policy="ClusterImagePolicy/report-keyless"><td>ClusterImagePolicy/report-keyless</td><td>100</td><td>0</td><td>0</td><td>100</td><td>0</td></tr>"#),
                "by policy: fail, error, warn, pass, skip")

        // The script sorted the findings worst first (the page lists them in evaluation order).
        let results = Self.findingResults(dom)
        #expect(results.count == 200 && results.filter { $0 == "fail" }.count == 100)
        #expect(results == results.sorted { Self.severity[$0]! < Self.severity[$1]! }, "\(results.prefix(10))")
        #expect(Self.findingResults(applied.stdout) != results, "the page as written is not sorted yet")
        #expect(dom.contains(#"id="findings" class="sortable" data-sorted-by="result""#))

        // Each denied Pod's failing image with the check tree explain prints; the hostile name as text.
        #expect(dom.components(separatedBy: #"<details class="denied" open="">"#).count - 1 == 100)
        #expect(dom.contains(#"<summary>Pod ns2/pod-2</summary><pre>image \#(images[2]) @ sha256:"#), "\(dom.suffix(3000))")
        #expect(dom.contains("  ClusterImagePolicy/report-keyless\n    ✘ authorities[0] (authority-0) [signature] signature verification failed: no signatures found"),
                "\(dom.suffix(3000))")
        #expect(dom.contains("<title>sealgate report</title>") && dom.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"))

        let shot = try Chromium.screenshot(page, to: world.dir.appendingPathComponent("report.png"))
        #expect(shot.width == 1280 && shot.height == 2000 && shot.bytes > 20_000, "\(shot)")
    }

    @Test("explain -o html: a hostile image reference and policy message are text in the page; nothing they carry runs")
    func explainReportEscapes() throws {
        let dir = try makeTemporaryDirectory("html-explain")
        let policy = dir.appendingPathComponent("block.yaml")
        try """
        apiVersion: policy.sigstore.dev/v1beta1
        kind: ClusterImagePolicy
        metadata: {name: block}
        spec:
          images: [{glob: "registry.example/**"}]
          authorities:
            - static: {action: fail, message: "<img src=x onerror=\\"document.title='pwned'\\"><script>document.title='pwned'</script>"}
        """.write(to: policy, atomically: true, encoding: .utf8)
        let pod = dir.appendingPathComponent("pod.yaml")
        try """
        apiVersion: v1
        kind: Pod
        metadata: {name: web, namespace: shop}
        spec:
          containers:
            - {name: a, image: "registry.example/app:1"}
            - {name: b, image: "evil.example/<script>document.title='pwned'</script>"}
        """.write(to: pod, atomically: true, encoding: .utf8)
        let run = try SealgateCLI.run(["explain", pod.path, "--policy", policy.path, "-o", "html"], environment: ["HOME": dir.path])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(!run.stdout.contains("<img") && !run.stdout.contains("<script>document"), "user data must be escaped")
        #expect(run.stdout.contains("static fail: &lt;img src=x onerror=&quot;document.title=&#39;pwned&#39;&quot;&gt;"), "\(run.stdout)")
        let page = dir.appendingPathComponent("explain.html")
        try run.stdout.write(to: page, atomically: true, encoding: .utf8)

        let dom = try Chromium.dom(page)
        #expect(dom.contains("<title>sealgate report</title>") && !dom.contains("<img") && !dom.contains("pwned</title>"))
        #expect(Self.text(ofID: "count-workloads", in: dom) == "1" && Self.text(ofID: "count-images", in: dom) == "2")
        #expect(Self.text(ofID: "count-denied", in: dom) == "1")
        #expect(dom.contains("image evil.example/&lt;script&gt;document.title='pwned'&lt;/script&gt;: fail"), "\(dom)")
        #expect(Self.findingResults(dom).allSatisfy { $0 == "fail" } && !Self.findingResults(dom).isEmpty)
    }
}
