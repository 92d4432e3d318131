import Foundation
import Testing
import TestSupport

/// Headless Chromium (Debian `chromium`, from scripts/install-deps) on a local file: the DOM after its scripts ran,
/// or a PNG screenshot. Each call is one browser launch with its own profile and HOME.
enum Chromium {
    static func run(_ page: URL, _ mode: [String]) throws -> ProcessOutput {
        let binary = try #require(Subprocess.which("chromium"), "chromium is not installed (scripts/install-deps installs it)")
        let profile = try makeTemporaryDirectory("chromium")
        defer { try? FileManager.default.removeItem(at: profile) }
        return try Subprocess.run(binary, ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                                           "--user-data-dir=\(profile.path)", "--window-size=1280,2000"] + mode + [page.absoluteString],
                                  environment: ["HOME": profile.path], timeout: 90)
    }

    /// The serialized DOM after the page's scripts ran (`--dump-dom`).
    static func dom(_ page: URL) throws -> String {
        let run = try run(page, ["--dump-dom"])
        try #require(run.status == 0 && !run.stdout.isEmpty, "chromium --dump-dom failed: \(run.stderr.suffix(2000))")
        return run.stdout
    }

    /// Width and height of the PNG written by `--screenshot`.
    static func screenshot(_ page: URL, to png: URL) throws -> (width: Int, height: Int, bytes: Int) {
        let run = try run(page, ["--screenshot=\(png.path)"])
        let data = try #require(FileManager.default.contents(atPath: png.path), "no screenshot: \(run.stderr.suffix(2000))")
        try #require(data.count > 24 && data.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "not a PNG")
        let be = { (at: Int) in data[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (be(16), be(20), data.count)
    }
}
