import Foundation

/// One line of the audit file: an admission that was (or, in audit/warn mode, would have been) denied.
public struct AuditRecord: Codable, Sendable {
    public struct Image: Codable, Sendable {
        public var image: String
        public var digest: String?
        public var reasons: [String]
        public var transient: Bool
        /// The failed checks, structured.
        public var checks: [CheckRecord]? = nil
    }

    public var time = ISO8601DateFormatter().string(from: Date())
    public var uid: String
    public var kind: String
    public var namespace: String?
    public var name: String
    public var operation: String
    /// A dry-run request: the decision is real, the object was never created.
    public var dryRun: Bool
    public var mode: String
    public var allowed: Bool
    public var images: [Image]
}

/// Appends JSON lines to a file; one writer lock, so lines never interleave.
public final class AuditLog: @unchecked Sendable {
    private let handle: FileHandle
    private let lock = NSLock()
    private let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    public init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
            }
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
    }

    public func write(_ record: AuditRecord) {
        guard var data = try? encoder.encode(record) else { return }
        data.append(0x0A)
        lock.lock()
        handle.write(data)
        lock.unlock()
    }
}
