import Foundation

/// Docker credential helpers (`credHelpers`, `credsStore` in `config.json`): `docker-credential-NAME get` with the
/// registry on stdin answers `{"ServerURL", "Username", "Secret"}` on stdout (docker-credential-helpers protocol).
/// Answers are kept `ttl` seconds: helpers can be slow (a cloud round trip) and admission runs per request.
public final class CredentialHelpers: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    private let path: String
    private let ttl: Double
    private let timeout: Double
    private let lock = NSLock()
    private var answers: [String: (credential: Credential?, expires: Double)] = [:]
    private static let maxAnswers = 256

    public init(path: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin", ttl: Double = 300, timeout: Double = 10) {
        self.path = path
        self.ttl = ttl
        self.timeout = timeout
    }

    /// The helper's credential for `registry`, nil when it has none ("credentials not found").
    /// Throws when the helper is missing, hangs, or answers something that is not the protocol; the error names
    /// the helper and the registry, never what it printed (that may be a secret).
    public func get(helper: String, registry: String) throws -> Credential? {
        let key = "\(helper) \(registry)"
        lock.lock()
        if let hit = answers[key], hit.expires > Deadline.now() { lock.unlock(); return hit.credential }
        lock.unlock()
        let credential = try run(helper: helper, serverURL: registry == "index.docker.io" ? "https://index.docker.io/v1/" : registry)
        lock.lock()
        if answers.count >= Self.maxAnswers { answers = answers.filter { $0.value.expires > Deadline.now() } }
        if answers.count < Self.maxAnswers { answers[key] = (credential, Deadline.now() + ttl) }
        lock.unlock()
        return credential
    }

    private func run(helper: String, serverURL: String) throws -> Credential? {
        let program = "docker-credential-" + helper
        guard helper.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }), !helper.isEmpty else {
            throw Failure(description: "credential helper name \"\(helper)\" is not a plain program name")
        }
        guard let executable = path.split(separator: ":").map({ "\($0)/\(program)" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Failure(description: "credential helper \(program) (for \(serverURL)) is not on PATH")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["get"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        do { try process.run() } catch {
            throw Failure(description: "credential helper \(program) (for \(serverURL)) could not start: \(error.localizedDescription)")
        }
        input.fileHandleForWriting.write(Data(serverURL.utf8))
        try? input.fileHandleForWriting.close()
        // Read while it runs: a full pipe must not stall the helper.
        let read = DispatchGroup()
        nonisolated(unsafe) var stdout = Data()
        read.enter()
        DispatchQueue.global().async {
            stdout = output.fileHandleForReading.readDataToEndOfFile()
            read.leave()
        }
        if done.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            throw Failure(description: "credential helper \(program) (for \(serverURL)) did not answer within \(Int(timeout)) s")
        }
        guard read.wait(timeout: .now() + 1) == .success else {
            throw Failure(description: "credential helper \(program) (for \(serverURL)) left its output open after exiting")
        }
        let text = String(decoding: stdout, as: UTF8.self)
        if process.terminationStatus != 0 {
            // The protocol's "not found" answer is a plain message on stdout and exit status 1.
            if text.lowercased().contains("credentials not found") { return nil }
            throw Failure(description: "credential helper \(program) (for \(serverURL)) exited with status \(process.terminationStatus)")
        }
        struct Answer: Decodable { var Username: String?; var Secret: String? }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(text.utf8)), let secret = answer.Secret else {
            throw Failure(description: "credential helper \(program) (for \(serverURL)) did not print {\"Username\", \"Secret\"} JSON")
        }
        if secret.isEmpty { return nil }
        return Credential(username: answer.Username ?? "", password: secret)
    }
}
