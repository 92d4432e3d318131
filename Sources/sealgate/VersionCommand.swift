import ArgumentParser
import BuildInfo
import Foundation

/// `sealgate version`: the version, the commit and time the binary was built from, and the Swift, OpenSSL and
/// nghttp2 versions (the same as `sealgate --version` and the `sealgate_build_info` metric's labels).
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the version, the git commit and date of the build, and the Swift, OpenSSL and nghttp2 versions.")

    @Option(name: [.customShort("o"), .customLong("output")], help: "text or json.")
    var output = "text"

    func validate() throws {
        guard ["text", "json"].contains(output) else { throw ValidationError("--output must be text or json") }
    }

    func run() throws {
        guard output == "json" else { return print(BuildInfo.current.text) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(BuildInfo.current), as: UTF8.self))
    }
}
