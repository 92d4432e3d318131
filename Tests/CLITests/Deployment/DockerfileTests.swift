import Foundation
import Testing
import TestSupport

/// A parsed Dockerfile: instructions with line continuations joined and comments dropped, split into stages.
struct Dockerfile {
    struct Instruction { var keyword: String; var arguments: String }
    struct Stage { var base: String; var name: String?; var instructions: [Instruction] }
    var stages: [Stage] = []

    init(_ text: String) {
        var logical: [String] = []
        var current = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") { continue }           // comments, also inside continuations
            if line.hasSuffix("\\") { current += line.dropLast() + " "; continue }
            current += line
            if !current.trimmingCharacters(in: .whitespaces).isEmpty { logical.append(current) }
            current = ""
        }
        var args: [String: String] = [:]
        for line in logical {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            let keyword = parts[0].uppercased()
            let rest = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
            if keyword == "ARG", stages.isEmpty {
                let kv = rest.split(separator: "=", maxSplits: 1).map(String.init)
                if kv.count == 2 { args[kv[0]] = kv[1] }
                continue
            }
            if keyword == "FROM" {
                var words = rest.split(separator: " ").map(String.init)
                var base = words.first ?? ""
                for (k, v) in args { base = base.replacingOccurrences(of: "${\(k)}", with: v) }
                words = words.map { $0.lowercased() }
                let name = words.count >= 3 && words[1] == "as" ? rest.split(separator: " ").map(String.init)[2] : nil
                stages.append(Stage(base: base, name: name, instructions: []))
                continue
            }
            if !stages.isEmpty { stages[stages.count - 1].instructions.append(Instruction(keyword: keyword, arguments: rest)) }
        }
    }

    var runtime: Stage? { stages.last }

    /// Packages named by `apt-get install` in a stage's RUN instructions.
    static func aptPackages(_ stage: Stage) -> Set<String> {
        var packages = Set<String>()
        for i in stage.instructions where i.keyword == "RUN" {
            for command in i.arguments.components(separatedBy: "&&") {
                let words = command.split(separator: " ").map(String.init)
                guard let at = words.firstIndex(of: "install"), words[..<at].contains("apt-get") else { continue }
                packages.formUnion(words[(at + 1)...].filter { !$0.hasPrefix("-") })
            }
        }
        return packages
    }
}

@Suite struct DockerfileTests {
    let dockerfile = Dockerfile((try? Deploy.read("Dockerfile")) ?? "")

    @Test func multiStageBuildToSlimRuntime() throws {
        #expect(dockerfile.stages.count == 2)
        let build = try #require(dockerfile.stages.first)
        let runtime = try #require(dockerfile.runtime)
        #expect(build.base.hasPrefix("swift:6"), "build stage: \(build.base)")
        #expect(runtime.base == "debian:bookworm-slim")
        let buildRuns = build.instructions.filter { $0.keyword == "RUN" }.map(\.arguments).joined(separator: "\n")
        #expect(buildRuns.contains("swift build -c release --static-swift-stdlib"))
        #expect(runtime.instructions.contains { $0.keyword == "USER" && $0.arguments.hasPrefix("65532") })
        #expect(runtime.instructions.contains { $0.keyword == "ENTRYPOINT" && $0.arguments == #"["sealgate", "serve"]"# })
        #expect(!dockerfile.stages.flatMap(\.instructions).contains { $0.keyword == "HEALTHCHECK" })
        // The runtime copies the built binary from the build stage, and the default policies.
        let copies = runtime.instructions.filter { $0.keyword == "COPY" }.map(\.arguments)
        #expect(copies.contains { $0.hasPrefix("--from=\(build.name ?? "?") ") })
        #expect(copies.contains { $0.hasPrefix("policies") })
    }

    /// The build stage installs the -dev packages Package.swift's system libraries name (`.apt([...])`).
    @Test func buildStageInstallsSystemLibraryProviders() throws {
        let manifest = try Deploy.read("Package.swift")
        let regex = try NSRegularExpression(pattern: #"\.apt\(\[([^\]]*)\]\)"#)
        let ns = manifest as NSString
        let wanted = regex.matches(in: manifest, range: NSRange(location: 0, length: ns.length)).flatMap {
            ns.substring(with: $0.range(at: 1)).split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\" ")) }
        }
        #expect(!wanted.isEmpty)
        let build = try #require(dockerfile.stages.first)
        let installed = Dockerfile.aptPackages(build)
        for p in wanted { #expect(installed.contains(p), "build stage does not install \(p)") }
    }

    /// Every file or directory a COPY takes from the build context exists in the repository
    /// and is not excluded by .dockerignore.
    @Test func copiedContextPathsExist() throws {
        let ignore = (try? Deploy.read(".dockerignore")) ?? ""
        let ignored = ignore.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
        var checked = 0
        for stage in dockerfile.stages {
            for i in stage.instructions where i.keyword == "COPY" || i.keyword == "ADD" {
                let words = i.arguments.split(separator: " ").map(String.init)
                if words.contains(where: { $0.hasPrefix("--from=") }) { continue }
                let sources = words.filter { !$0.hasPrefix("--") }.dropLast()
                for source in sources {
                    let clean = source.hasSuffix("/") ? String(source.dropLast()) : source
                    #expect(FileManager.default.fileExists(atPath: Deploy.path(clean)), "COPY \(source): not in the repository")
                    #expect(!ignored.contains { $0 == clean || $0 == clean + "/" }, "COPY \(source) is excluded by .dockerignore")
                    checked += 1
                }
            }
        }
        #expect(checked >= 3)
    }

    /// Every shared library the built binary links (other than glibc and the Swift runtime, which
    /// --static-swift-stdlib links statically) comes from a Debian package the runtime stage installs.
    @Test func runtimeStageInstallsEveryLinkedLibrary() throws {
        guard let sealgate = Deploy.sealgate(),
              let ldd = Deploy.tool("ldd", "lists the binary's shared libraries"),
              let dpkg = Deploy.tool("dpkg", "maps libraries to Debian packages") else { return }
        let runtime = try #require(dockerfile.runtime)
        let installed = Dockerfile.aptPackages(runtime)
        #expect(installed.contains("ca-certificates"), "TLS to registries needs CA certificates")
        let out = try Subprocess.run(ldd, [sealgate], timeout: 60)
        #expect(out.status == 0)
        var mapped: [String: String] = [:]
        for line in out.stdout.split(separator: "\n") {
            // "libssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x...)"
            let parts = line.trimmingCharacters(in: .whitespaces).components(separatedBy: " => ")
            guard parts.count == 2, let path = parts[1].split(separator: " ").first.map(String.init), path.hasPrefix("/") else { continue }
            if path.contains("/swift/") { continue }   // Swift runtime: static in the release image
            let owner = try Subprocess.run(dpkg, ["-S", path], timeout: 30)
            var package = owner.stdout.split(separator: ":").first.map(String.init)
            if owner.status != 0 {
                // usrmerge: dpkg may know the file only under /usr/lib or only under /lib.
                let alt = path.hasPrefix("/usr/") ? String(path.dropFirst(4)) : "/usr" + path
                let retry = try Subprocess.run(dpkg, ["-S", alt], timeout: 30)
                package = retry.status == 0 ? retry.stdout.split(separator: ":").first.map(String.init) : nil
            }
            guard let package else { Issue.record("\(path) belongs to no Debian package"); continue }
            mapped[parts[0]] = package
        }
        // The libraries the brief names must be among them.
        for lib in ["libssl.so.3", "libnghttp2.so.14"] { #expect(mapped[lib] != nil, "ldd does not list \(lib)") }
        for (lib, package) in mapped where package != "libc6" {
            #expect(installed.contains(package), "\(lib) comes from \(package), which the runtime stage does not install")
        }
    }

    /// SwiftPM resource bundles built beside the binary are shipped beside it in the image.
    @Test func resourceBundlesAreCopied() throws {
        guard let sealgate = Deploy.sealgate() else { return }
        let dir = URL(fileURLWithPath: sealgate).deletingLastPathComponent()
        let bundles = (try FileManager.default.contentsOfDirectory(atPath: dir.path)).filter { $0.hasPrefix("sealgate_") && $0.hasSuffix(".resources") }
        let build = try #require(dockerfile.stages.first)
        let runs = build.instructions.filter { $0.keyword == "RUN" }.map(\.arguments).joined(separator: "\n")
        if !bundles.isEmpty {
            #expect(runs.contains(#""$bin"/sealgate_*.resources /out/"#), "bundles \(bundles) are not copied to /out")
        }
        let runtime = try #require(dockerfile.runtime)
        #expect(runtime.instructions.contains { $0.keyword == "COPY" && $0.arguments.contains("/out/ /usr/local/bin/") })
    }
}
