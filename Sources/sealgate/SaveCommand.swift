import ArgumentParser
import Foundation
import ImageReference
import Registry

/// `sealgate save`: copies images' manifests, signatures, attestations and referrers into an OCI image
/// layout, so `sealgate test/apply --offline DIR` verify them without network (CI, or replaying a decision).
struct SaveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "save",
        abstract: "Save images with their signatures, attestations and referrers into an OCI image layout for --offline.",
        discussion: """
        The last argument is the layout directory (created when missing; saving again adds to it). Image layers are \
        not copied: verification never reads them. Exit status: 0 when all were saved, 1 when a registry lookup failed, 2 on usage errors.
        """)

    @Argument(help: "Image references, then the layout directory.")
    var arguments: [String] = []

    @OptionGroup var registry: RegistryOptions

    @Flag(help: "No progress line on stderr (shown only when stderr is a terminal).")
    var quiet = false

    func run() throws {
        try usageErrors("save") {
            guard arguments.count >= 2, let dir = arguments.last else { throw ValidationError("usage: sealgate save IMAGE... DIR") }
            let images = try arguments.dropLast().map(parseImage)
            let client = try registry.makeClient()
            let layout: OCILayout
            do { layout = try OCILayout.create(directory: dir) } catch let e as RegistryError { throw ValidationError(e.detail) }
            var failed = false
            let progress = ProgressLine(total: images.count, noun: "images", quiet: quiet)
            for image in images {
                defer { progress.advance() }
                do {
                    let digest = try layout.save(image, from: client, deadline: .after(seconds: registry.timeout))
                    progress.clear()
                    print("\(image.original): saved \(digest)")
                } catch {
                    progress.clear()
                    FileHandle.standardError.write(Data("sealgate save: \(image.original): \(error)\n".utf8))
                    failed = true
                }
            }
            progress.clear()
            do { try layout.writeIndex() } catch let e as RegistryError { throw ValidationError(e.detail) }
            if failed { throw ExitCode(1) }
        }
    }
}
