import Foundation

/// Result of a finished child process.
public struct ProcessOutput: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

public enum SubprocessError: Error, CustomStringConvertible {
    case timedOut(String, Double)
    case notFound(String)

    public var description: String {
        switch self {
        case .timedOut(let command, let seconds): "\(command) did not finish within \(seconds) s"
        case .notFound(let tool): "\(tool) not found on PATH"
        }
    }
}

/// Runs child processes with a hard time bound (tests must never hang).
public enum Subprocess {
    /// Absolute path of a tool on PATH, or nil.
    public static func which(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:],
                           directory: String? = nil, timeout: Double = 120) throws -> ProcessOutput {
        let process = Process()
        if executable.hasPrefix("/") {
            process.executableURL = URL(fileURLWithPath: executable)
        } else {
            guard let path = which(executable) else { throw SubprocessError.notFound(executable) }
            process.executableURL = URL(fileURLWithPath: path)
        }
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        // Files, not pipes: a chatty child can never block on a full pipe.
        let dir = FileManager.default.temporaryDirectory
        let outURL = dir.appendingPathComponent("sp-\(UUID().uuidString).out")
        let errURL = dir.appendingPathComponent("sp-\(UUID().uuidString).err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)
        process.standardOutput = outHandle
        process.standardError = errHandle
        let inPipe = Pipe()
        process.standardInput = stdin == nil ? FileHandle.nullDevice : inPipe
        try process.run()
        if let stdin {
            DispatchQueue.global().async {
                try? inPipe.fileHandleForWriting.write(contentsOf: stdin)
                try? inPipe.fileHandleForWriting.close()
            }
        }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            usleep(200_000)
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            throw SubprocessError.timedOut(([executable] + arguments).joined(separator: " "), timeout)
        }
        try? outHandle.close()
        try? errHandle.close()
        return ProcessOutput(status: process.terminationStatus,
                             stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                             stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }
}

/// A long-running child (a server, a registry) stopped when the test ends.
public final class BackgroundProcess: @unchecked Sendable {
    public let process = Process()
    public let stdoutURL: URL
    public let stderrURL: URL

    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: String? = nil) throws {
        // Started through reaper.py so the child dies with this test process, even if a test crashes
        // or a shared (static) fixture never gets to stop it.
        let target = executable.hasPrefix("/") ? executable : (Subprocess.which(executable) ?? executable)
        process.executableURL = URL(fileURLWithPath: Subprocess.which("python3") ?? "/usr/bin/python3")
        process.arguments = ["-u", TestPaths.fixtures.appendingPathComponent("reaper.py").path, target] + arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let dir = FileManager.default.temporaryDirectory
        stdoutURL = dir.appendingPathComponent("bg-\(UUID().uuidString).out")
        stderrURL = dir.appendingPathComponent("bg-\(UUID().uuidString).err")
        FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    deinit { stop() }

    public var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Waits until `predicate(stdout)` holds; false on timeout or exit.
    public func waitForOutput(timeout: Double = 20, _ predicate: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if predicate(stdout) { return true }
            if !process.isRunning { return predicate(stdout) }
            usleep(20_000)
        }
        return false
    }

    public func signal(_ number: Int32) { if process.isRunning { kill(process.processIdentifier, number) } }

    /// SIGKILLs the program itself, not reaper.py in front of it (which cannot forward SIGKILL): a crash with no
    /// chance to clean up. Returns once the reaper has seen it exit; false if there was no child to kill.
    @discardableResult
    public func killProgram() -> Bool {
        let reaper = process.processIdentifier
        guard let children = try? String(contentsOfFile: "/proc/\(reaper)/task/\(reaper)/children", encoding: .utf8),
              let child = children.split(separator: " ").first.flatMap({ Int32($0) }) else { return false }
        kill(child, SIGKILL)
        return waitForExit(timeout: 5) != nil
    }

    /// Waits for exit; returns the status, or nil if still running at the deadline.
    public func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        if waitForExit(timeout: 5) == nil { kill(process.processIdentifier, SIGKILL) }
        _ = waitForExit(timeout: 5)
    }
}

/// A fresh temporary directory removed by the caller (or left for debugging on failure).
public func makeTemporaryDirectory(_ prefix: String = "sealgate-test") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
