import Foundation

/// `sealgate serve` started as a child process on 127.0.0.1 with an ephemeral port.
public final class SealgateServer: @unchecked Sendable {
    public let process: BackgroundProcess
    public let port: UInt16
    public let scheme: String

    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(arguments: [String], environment: [String: String] = [:], directory: String? = nil) throws {
        process = try BackgroundProcess(TestPaths.sealgateBinary.path, ["serve", "--address", "127.0.0.1:0"] + arguments,
                                        environment: environment, directory: directory)
        let started = process.waitForOutput(timeout: 30) { $0.contains("sealgate listening on") }
        guard started, let line = process.stdout.split(separator: "\n").first(where: { $0.contains("listening on") }),
              let portText = line.split(separator: ":").last, let port = UInt16(portText) else {
            process.stop()
            throw StartError(description: "sealgate serve did not start: \(process.stderr)")
        }
        self.port = port
        scheme = line.contains("https://") ? "https" : "http"
    }

    public var baseURL: String { "\(scheme)://127.0.0.1:\(port)" }

    public func stop() { process.stop() }

    deinit { process.stop() }
}

/// One run of the built `sealgate` binary.
public enum SealgateCLI {
    public static func run(_ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:],
                           directory: String? = nil, timeout: Double = 120) throws -> ProcessOutput {
        try Subprocess.run(TestPaths.sealgateBinary.path, arguments, stdin: stdin, environment: environment, directory: directory, timeout: timeout)
    }
}
