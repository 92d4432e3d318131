import Foundation
import TUF

/// A TrustRoot's `repository.mirrorFS`: a TUF repository as a gzipped tar, base64-encoded, for clusters without
/// network access (policy-controller's `ClientFromSerializedMirror`). Paths are relative to the archive's
/// `repository/` folder when it has one; metadata sits at the top, targets under the `targets` folder.
public struct SerializedRepository: Sendable {
    public static let maxExpandedBytes = 64 * 1024 * 1024
    public let files: [String: Data]

    /// `mirrorFS` as written in the TrustRoot (base64 text; surrounding whitespace and line breaks allowed).
    public init(mirrorFS: String) throws {
        let compact = mirrorFS.filter { !$0.isWhitespace }
        guard let gzipped = Data(base64Encoded: compact) else { throw SerializedRepositoryError("mirrorFS is not base64") }
        try self.init(gzippedTar: gzipped)
    }

    public init(gzippedTar: Data) throws {
        let tar: Data
        do { tar = try Gunzip.decompress(gzippedTar, maxBytes: Self.maxExpandedBytes) } catch {
            throw SerializedRepositoryError("mirrorFS: \(error)")
        }
        let entries: [String: Data]
        do { entries = try TarArchive.files(tar) } catch { throw SerializedRepositoryError("mirrorFS: not a tar archive: \(error)") }
        var files: [String: Data] = [:]
        for (name, data) in entries {
            let parts = name.split(separator: "/").filter { $0 != "." }
            guard !parts.contains("..") else { throw SerializedRepositoryError("mirrorFS: path \"\(name)\" leaves the repository") }
            files[parts.joined(separator: "/")] = data
        }
        if !files.isEmpty, files.keys.allSatisfy({ $0.hasPrefix("repository/") }) {
            files = Dictionary(uniqueKeysWithValues: files.map { (String($0.key.dropFirst("repository/".count)), $0.value) })
        }
        guard files["root.json"] != nil || files["1.root.json"] != nil || files["timestamp.json"] != nil else {
            throw SerializedRepositoryError("mirrorFS: no TUF metadata (timestamp.json) at the top of the archive")
        }
        self.files = files
    }

    /// Base URL of the repository's metadata for `fetcher`.
    public static let baseURL = URL(string: "tuf-archive:///")!

    public var fetcher: TUFFetcher { ArchiveFetcher(files: files) }
}

public struct SerializedRepositoryError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Serves the archive's files for `tuf-archive:///PATH` URLs, with the same limits as a network fetch.
struct ArchiveFetcher: TUFFetcher {
    let files: [String: Data]

    func fetch(url: URL, maxBytes: Int) throws -> Data {
        let path = String(url.path.drop { $0 == "/" }).removingPercentEncoding ?? url.path
        guard url.scheme == "tuf-archive", let data = files[path] else { throw FetchError.notFound(url) }
        guard data.count <= maxBytes else { throw FetchError.tooLarge(url, limit: maxBytes) }
        return data
    }
}
