import Foundation
import TestSupport
import Testing

private func which(_ tool: String) -> String? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let p = "\(dir)/\(tool)"
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    return nil
}

@Suite("sigstore-conformance bundle-verify suite")
struct ConformanceTests {
    static let script = TestPaths.sharedTestdata.deletingLastPathComponent().appendingPathComponent("tools/sigstore-conformance")

    @Test("all 47 cases × path/digest pass against the built sealgate binary",
          .enabled(if: which("python3") != nil, "python3 is missing: cannot run the sigstore-conformance harness"))
    func conformanceSuitePasses() throws {
        let binary = TestPaths.sealgateBinary
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "sealgate binary not built at \(binary.path)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: which("python3")!)
        p.arguments = [Self.script.path, binary.path]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let summary = text.split(separator: "\n").last.map(String.init) ?? ""
        #expect(summary == "94 passed, 0 failed", "conformance output:\n\(text)")
        #expect(p.terminationStatus == 0)
    }
}
