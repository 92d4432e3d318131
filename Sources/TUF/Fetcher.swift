import Foundation

/// How the updater gets bytes. A protocol so the workflow is tested without sockets and so callers choose the
/// transport (HTTP, a mirror on disk, an unpacked air-gapped repository).
public protocol TUFFetcher: Sendable {
    /// The resource's bytes, or an error: `FetchError.notFound` for a missing file (403/404), `FetchError.tooLarge`
    /// as soon as more than `maxBytes` would be read (the response is never buffered past the limit).
    func fetch(url: URL, maxBytes: Int) throws -> Data
}

public enum FetchError: Error, Equatable, CustomStringConvertible, Sendable {
    case notFound(URL)
    case tooLarge(URL, limit: Int)
    case failed(URL, String)

    public var description: String {
        switch self {
        case .notFound(let u): "\(u.absoluteString): not found"
        case .tooLarge(let u, let limit): "\(u.absoluteString): more than \(limit) bytes"
        case .failed(let u, let why): "\(u.absoluteString): \(why)"
        }
    }
}

/// `file://` URLs: a repository copied to disk (air-gapped clusters) and the tests' fast path.
public struct FileFetcher: TUFFetcher {
    public init() {}

    public func fetch(url: URL, maxBytes: Int) throws -> Data {
        guard url.isFileURL else { throw FetchError.failed(url, "not a file:// URL") }
        guard let handle = FileHandle(forReadingAtPath: url.path) else { throw FetchError.notFound(url) }
        defer { try? handle.close() }
        // Read one byte past the limit: enough to know it is exceeded, never the whole (possibly endless) file.
        let data = (try? handle.read(upToCount: maxBytes + 1)) ?? Data()
        guard data.count <= maxBytes else { throw FetchError.tooLarge(url, limit: maxBytes) }
        return data
    }
}
