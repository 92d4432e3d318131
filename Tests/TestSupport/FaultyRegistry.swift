import Foundation

/// Tests/Fixtures/registry/faulty_registry.py on 127.0.0.1: a registry whose repositories misbehave by name
/// (error500/, hang/, ratelimit/, bearer/, …), plain HTTP and TLS on the same port.
public final class FaultyRegistry: @unchecked Sendable {
    public let process: BackgroundProcess
    public let port: String
    /// `127.0.0.1:PORT`.
    public var host: String { "127.0.0.1:\(port)" }

    public init() throws {
        process = try BackgroundProcess("python3", ["-u", TestPaths.fixtures.appendingPathComponent("registry/faulty_registry.py").path])
        guard process.waitForOutput(timeout: 20, { $0.contains("listening") }),
              let port = process.stdout.split(separator: "\n").first?.split(separator: " ").last else {
            process.stop()
            throw LocalRegistry.Unavailable(description: "faulty registry did not start: \(process.stderr)")
        }
        self.port = String(port).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func stop() { process.stop() }

    deinit { process.stop() }
}
