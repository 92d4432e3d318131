import ArgumentParser
import Foundation
import ImageReference
import Notary
import Registry
import SealgateCore

/// `sealgate verify --notary-server URL --notary-root PEM IMAGE…`: Docker Content Trust. The registry resolves the
/// tag; the Notary trust data, verified from the pinned root key, must sign that digest. Prints the signed digest
/// and the roles that signed it; exit 0 verified, 1 not, 2 usage error (as `verify` does).
struct VerifyNotaryOptions: ParsableCommand {
    static let usage = "sealgate verify --notary-server URL --notary-root PEM [--notary-ca PEM] [--notary-delegation NAME]... [--notary-threshold N] [--output json|text] [--insecure-registry H] IMAGE..."
    static let configuration = CommandConfiguration(commandName: "sealgate verify")

    @Option(name: .customLong("notary-server"), help: "Notary server URL (https://host:port) holding the trust data.")
    var server: String
    @Option(name: .customLong("notary-root"), help: "PEM public key the repository's root metadata must be signed with (repeatable: any one).")
    var roots: [String]
    @Option(name: .customLong("notary-ca"), help: "PEM CA bundle for the notary server's TLS certificate, besides the system store.")
    var ca: String?
    @Option(name: .customLong("notary-delegation"), help: "Delegation role that must sign the digest (releases or targets/releases; repeatable).")
    var delegations: [String] = []
    @Option(name: .customLong("notary-threshold"), help: "How many of the --notary-delegation roles must sign (default: all).")
    var threshold: Int?
    @Option(help: "Output format: json or text.")
    var output = "json"
    @OptionGroup var registry: RegistryOptions
    @Argument(help: "Image references (tag or digest).") var images: [String]

    mutating func validate() throws {
        guard !images.isEmpty else { throw ValidationError("at least one IMAGE is required") }
        guard output == "json" || output == "text" else { throw ValidationError("--output must be json or text") }
        if let threshold {
            guard !delegations.isEmpty, (1...delegations.count).contains(threshold) else {
                throw ValidationError("--notary-threshold needs --notary-delegation and must be between 1 and their number")
            }
        }
    }

    static func isNotary(_ arguments: [String]) -> Bool {
        arguments.contains { $0 == "--notary-server" || $0.hasPrefix("--notary-server=") }
    }

    func run() throws {
        func read(_ path: String, _ what: String) throws -> String {
            guard let d = FileManager.default.contents(atPath: path) else { throw VerifyUsageError("cannot read \(what) '\(path)'") }
            return String(decoding: d, as: UTF8.self)
        }
        let check: NotaryImageCheck
        let client: RegistryClient
        do {
            let caPEM = try ca.map { Data(try read($0, "notary CA").utf8) }
            let server = try NotaryServer(server: server, caPEM: caPEM)
            check = try NotaryImageCheck(server: server, pinnedRootsPEM: try roots.map { try read($0, "notary root key") },
                                         signers: NotarySigners(delegations: delegations, threshold: threshold), versions: NotaryVersions())
            client = try registry.makeClient()
        } catch {
            printError("error: \(error)")
            throw ExitCode(2)
        }
        let deadline = Deadline.after(seconds: registry.timeout)
        var failed = false
        var results: [[String: Any]] = []
        for image in images {
            let ref: ImageRef
            do { ref = try ImageRef(parsing: image) } catch {
                printError("error: \(error)")
                throw ExitCode(2)
            }
            do {
                let digest = try ref.digest ?? client.resolve(ref, deadline: deadline).digest
                let gun = NotaryImageCheck.gun(registry: ref.registry, repository: ref.repository)
                let (signed, _) = try check.verify(gun: gun, tag: ref.digest == nil ? ref.effectiveTag : nil, digest: digest, deadline: deadline)
                if output == "text" {
                    print("\(ref.name)@\(signed.digest) signed by \(signed.signers.joined(separator: ", "))")
                } else {
                    results.append(["image": image, "digest": signed.digest, "signers": signed.signers])
                }
            } catch {
                failed = true
                printError("\(image): \(error)")
            }
        }
        if output == "json", !results.isEmpty,
           let data = try? JSONSerialization.data(withJSONObject: results, options: [.sortedKeys, .withoutEscapingSlashes]) {
            print(String(decoding: data, as: UTF8.self))
        }
        if failed { throw ExitCode(1) }
    }
}
