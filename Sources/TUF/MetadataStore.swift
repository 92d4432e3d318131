import Foundation
import Glibc

/// The local metadata directory: trusted metadata under unversioned names (`root.json`, `timestamp.json`,
/// `snapshot.json`, `targets.json`, delegated roles as `NAME.json`). Every write goes to a temporary file in the
/// same directory, is flushed, then renamed over the old file, so a crash leaves the old or the new version,
/// never a torn one a later run would have to distrust.
public struct MetadataStore: Sendable {
    public let directory: URL

    public init(directory: URL) { self.directory = directory }

    /// Delegated role names come from metadata: percent-encode them so a name like `../x` stays inside the directory.
    public static func fileName(role: String) -> String { "\(FileNames.encode(role)).json" }

    public func url(role: String) -> URL { directory.appendingPathComponent(Self.fileName(role: role)) }

    public func load(role: String) -> Data? { FileManager.default.contents(atPath: url(role: role).path) }

    public func save(role: String, _ data: Data) throws { try Self.writeAtomically(data, to: url(role: role)) }

    public func remove(role: String) { try? FileManager.default.removeItem(at: url(role: role)) }

    public static func writeAtomically(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw TUFError.storage(path: dir.path, detail: "cannot create directory: \(error.localizedDescription)")
        }
        let temp = dir.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TUFError.storage(path: temp.path, detail: "cannot create: \(String(cString: strerror(errno)))") }
        var ok = true
        data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = write(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 { if errno == EINTR { continue }; ok = false; return }
                off += n
            }
        }
        if fsync(fd) != 0 { ok = false }
        close(fd)
        guard ok, rename(temp.path, url.path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(temp.path)
            throw TUFError.storage(path: url.path, detail: "cannot write: \(why)")
        }
    }
}

enum FileNames {
    /// Percent-encoding with nothing but unreserved characters left as is (python-tuf's `quote(name, "")`).
    static func encode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                out += String(format: "%%%02X", b)
            }
        }
        // "." and ".." are unreserved but would name directories.
        if out == "." || out == ".." { out = out.replacingOccurrences(of: ".", with: "%2E") }
        return out
    }
}
