import ArgumentParser
import Foundation
import SealgateCore
import TUF

/// `sealgate tuf`: the TUF client command line that conformance suites (theupdateframework/tuf-conformance's
/// CLIENT-CLI.md) drive: `init`, `refresh`, `download`, options before the action word. Exit 0 success, 1 any
/// failure (the reason, naming the role, on stderr), 2 usage error.
struct TUFCommand: ParsableCommand {
    static let usage = """
        sealgate tuf --metadata-dir DIR init ROOT_FILE
               sealgate tuf --metadata-dir DIR --metadata-url URL refresh
               sealgate tuf --metadata-dir DIR --metadata-url URL --target-name PATH [--target-name PATH...] \
        --target-base-url URL --target-dir DIR download
        """
    static let configuration = CommandConfiguration(
        commandName: "tuf",
        abstract: "TUF client: init a trusted root, refresh metadata, download verified targets (exit 0 ok, 1 failed, 2 usage).",
        discussion: "Usage: \(usage)",
        helpNames: []
    )

    @Argument(parsing: .captureForPassthrough, help: "Options and action; see --help.")
    var arguments: [String] = []

    struct Options: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "sealgate tuf")
        @Option(name: .customLong("metadata-dir"), help: "Directory of trusted metadata (root.json, timestamp.json, ...).") var metadataDir: String
        @Option(name: .customLong("metadata-url"), help: "Base URL of the repository's metadata (http, https or file).") var metadataURL: String?
        @Option(name: .customLong("target-name"), help: "Target path to download; repeatable, fetched in order.") var targetNames: [String] = []
        @Option(name: .customLong("target-base-url"), help: "Base URL of the repository's targets.") var targetBaseURL: String?
        @Option(name: .customLong("target-dir"), help: "Directory verified targets are stored in.") var targetDir: String?
        @Option(name: .customLong("ca-bundle"), help: "Extra PEM CA bundle for an https repository.") var caBundle: String?
        @Option(name: .customLong("now"), help: .hidden) var now: String?
        @Argument(help: "init ROOT_FILE | refresh | download") var words: [String] = []

        mutating func validate() throws {
            guard let action = words.first else { throw ValidationError("missing action: init, refresh or download") }
            switch action {
            case "init":
                guard words.count == 2 else { throw ValidationError("init takes exactly one ROOT_FILE") }
            case "refresh":
                guard words.count == 1 else { throw ValidationError("refresh takes no arguments") }
                guard metadataURL != nil else { throw ValidationError("refresh needs --metadata-url") }
            case "download":
                guard words.count == 1 else { throw ValidationError("download takes no arguments (use --target-name)") }
                guard metadataURL != nil, targetBaseURL != nil, targetDir != nil, !targetNames.isEmpty else {
                    throw ValidationError("download needs --metadata-url, --target-name, --target-base-url and --target-dir")
                }
            default:
                throw ValidationError("unknown action \"\(action)\": expected init, refresh or download")
            }
        }
    }

    func run() throws {
        let o = try parseCommandOptions(Options.self, arguments, usage: Self.usage)
        try runArtifactCommand(explain: { "\($0)" }) {
            let dir = URL(fileURLWithPath: o.metadataDir)
            switch o.words[0] {
            case "init":
                // No network and no checks (the protocol's contract): the root is verified by the first refresh.
                guard let root = FileManager.default.contents(atPath: o.words[1]) else {
                    throw TUFError.storage(path: o.words[1], detail: "cannot read the trusted root")
                }
                try MetadataStore.writeAtomically(root, to: MetadataStore(directory: dir).url(role: "root"))
                print("tuf: trusted root stored in \(dir.path)")
            case "refresh":
                let updater = try makeUpdater(o, dir)
                try updater.refresh()
                print(Self.summary(updater.trusted))
            default:
                let updater = try makeUpdater(o, dir)
                try updater.refresh()
                for name in o.targetNames {
                    guard let info = try updater.targetInfo(name) else { throw TUFError.unknownTarget(name) }
                    if let cached = try updater.cachedTarget(info) {
                        print("\(name): already present at \(cached.path)")
                    } else {
                        print("\(name): downloaded to \(try updater.downloadTarget(info).path)")
                    }
                }
            }
        }
    }

    private func makeUpdater(_ o: Options, _ dir: URL) throws -> Updater {
        let nowText = o.now ?? ProcessInfo.processInfo.environment["SEALGATE_TUF_NOW"]
        var now = Date()
        if let nowText {
            guard let pinned = RFC3339.parse(nowText) else { throw ArtifactUsageError("--now / SEALGATE_TUF_NOW: \"\(nowText)\" is not an RFC 3339 time") }
            now = pinned
        }
        func url(_ text: String, _ what: String) throws -> URL {
            if text.hasPrefix("/") { return URL(fileURLWithPath: text) }
            guard let u = URL(string: text), u.scheme != nil else { throw ArtifactUsageError("\(what): \"\(text)\" is not a URL") }
            return u
        }
        let ca = try o.caBundle.map { try readInput($0, "CA bundle") }
        return try Updater(metadataDirectory: dir, metadataBaseURL: try url(o.metadataURL!, "--metadata-url"),
                           targetBaseURL: try o.targetBaseURL.map { try url($0, "--target-base-url") },
                           targetDirectory: o.targetDir.map { URL(fileURLWithPath: $0) },
                           fetcher: try HTTPFetcher(caBundlePEM: ca), now: now)
    }

    static func summary(_ t: TrustedMetadataSet) -> String {
        var parts = ["root v\(t.root.common.version)"]
        if let ts = t.timestamp { parts.append("timestamp v\(ts.common.version)") }
        if let s = t.snapshot { parts.append("snapshot v\(s.common.version)") }
        if let tg = t.targetsRoles["targets"] { parts.append("targets v\(tg.common.version)") }
        return "tuf: refreshed: " + parts.joined(separator: ", ")
    }
}
