import Foundation
import Testing
import TestSupport
@testable import SigstoreTUF

/// `repository.mirrorFS` comes from a policy: hostile archives (not gzip, not tar, a decompression bomb, paths that
/// leave the repository) are refused with a reason; well-formed ones (with or without PAX long names) are read.
@Suite struct SerializedRepositoryTests {
    /// A gzipped tar built by python's tarfile from (name, content) pairs; names are used as written.
    static func archive(_ entries: [(String, String)], format: String = "GNU_FORMAT") throws -> Data {
        let dir = try makeTemporaryDirectory("mirrorfs")
        let spec = dir.appendingPathComponent("entries.json")
        try JSONSerialization.data(withJSONObject: entries.map { [$0.0, $0.1] }).write(to: spec)
        let out = dir.appendingPathComponent("repo.tgz")
        let script = """
            import io, json, sys, tarfile
            with tarfile.open(sys.argv[2], 'w:gz', format=getattr(tarfile, sys.argv[3])) as t:
                for name, content in json.load(open(sys.argv[1])):
                    data = content.encode()
                    info = tarfile.TarInfo(name); info.size = len(data)
                    t.addfile(info, io.BytesIO(data))
            """
        let run = try Subprocess.run("python3", ["-c", script, spec.path, out.path, format], timeout: 60)
        try #require(run.status == 0, "\(run.stderr)")
        return try #require(FileManager.default.contents(atPath: out.path))
    }

    @Test func readsTheRepositoryFolderAndLongNames() throws {
        let long = "targets/" + String(repeating: "d", count: 120) + "/trusted_root.json"
        for format in ["GNU_FORMAT", "PAX_FORMAT", "USTAR_FORMAT"] {
            let entries = [("repository/timestamp.json", "{}"), ("repository/1.root.json", "{\"r\":1}"),
                           ("repository/" + (format == "USTAR_FORMAT" ? "targets/x.json" : long), "T")]
            let repo = try SerializedRepository(mirrorFS: try Self.archive(entries, format: format).base64EncodedString())
            #expect(repo.files["timestamp.json"] == Data("{}".utf8), "\(format)")
            #expect(repo.files[format == "USTAR_FORMAT" ? "targets/x.json" : long] == Data("T".utf8), "\(format): \(repo.files.keys.sorted())")
            let fetched = try repo.fetcher.fetch(url: SerializedRepository.baseURL.appendingPathComponent("1.root.json"), maxBytes: 100)
            #expect(fetched == Data("{\"r\":1}".utf8))
            #expect(throws: Error.self) { try repo.fetcher.fetch(url: SerializedRepository.baseURL.appendingPathComponent("1.root.json"), maxBytes: 3) }
        }
    }

    @Test func hostileArchivesAreRefusedWithTheReason() throws {
        func reason(_ mirrorFS: String) -> String {
            do { _ = try SerializedRepository(mirrorFS: mirrorFS); return "accepted" } catch { return "\(error)" }
        }
        #expect(reason("not base64 !") == "mirrorFS is not base64")
        #expect(reason(Data("plain text, not gzip".utf8).base64EncodedString()).contains("mirrorFS: not valid gzip data"))
        let gzippedText = try Subprocess.run("sh", ["-c", "printf 'hello, not a tar archive' | gzip | base64 -w0"]).stdout
        #expect(reason(gzippedText).contains("not a tar archive"), "\(reason(gzippedText))")
        let truncated = try Self.archive([("repository/timestamp.json", "{}")]).prefix(40).base64EncodedString()
        #expect(reason(truncated).contains("truncated"), "\(reason(truncated))")
        let escape = try Self.archive([("repository/timestamp.json", "{}"), ("repository/../../etc/passwd", "x")]).base64EncodedString()
        #expect(reason(escape).contains("leaves the repository"), "\(reason(escape))")
        let noMetadata = try Self.archive([("repository/targets/a", "x")]).base64EncodedString()
        #expect(reason(noMetadata).contains("no TUF metadata"), "\(reason(noMetadata))")
        // 100 MiB of zeros compresses to about 100 KiB: stopped at the 64 MiB limit, never expanded in full.
        let bomb = try Subprocess.run("sh", ["-c", "head -c 104857600 /dev/zero | gzip -9 | base64 -w0"], timeout: 60).stdout
        #expect(bomb.count < 200_000)
        #expect(reason(bomb).contains("expands to more than \(SerializedRepository.maxExpandedBytes) bytes"), "\(reason(bomb).prefix(200))")
    }
}
