import ArgumentParser
import Foundation
import ImagePolicy
import ImageReference
import Registry
import RegistryCredentials

/// Registry flags shared by every command that reads images.
struct RegistryOptions: ParsableArguments {
    @Option(name: .customLong("insecure-registry"), help: "Registry host:port to reach over plain HTTP (repeatable; e.g. a local test registry).")
    var insecureRegistries: [String] = env("INSECURE_REGISTRY").map { $0.split(separator: ",").map(String.init) } ?? []

    @Option(name: .customLong("registry-ca"), help: "Extra PEM CA bundle for registry TLS, besides the system store.")
    var registryCA = env("REGISTRY_CA")

    @Option(name: .customLong("registry-timeout"), help: "Seconds the registry calls of one verification may take (serve: also bounded by the API server's timeout).")
    var timeout = env("REGISTRY_TIMEOUT").flatMap(Double.init) ?? 30

    @Option(name: .customLong("cloud-credentials"), help: "Use this cloud's registry credentials (amazon, google, azure, github; repeatable) even without its environment (IRSA, workload identity, a token) being detected. Kyverno imageRegistryCredentials.providers in loaded policies select them too.")
    var cloudCredentials: [String] = env("CLOUD_CREDENTIALS").map { $0.split(separator: ",").map(String.init) } ?? []

    @Option(name: .customLong("registry-provider"), help: "HOST=NAME: registry host served by a cloud provider besides its own hosts (a private endpoint or mirror; repeatable).")
    var registryProviders: [String] = env("REGISTRY_PROVIDERS").map { $0.split(separator: ",").map(String.init) } ?? []

    func makeClient() throws -> RegistryClient {
        try RegistryClient(configuration: try configuration())
    }

    /// Flags, `config.json` (with its credential helpers) and the cloud providers; `policies`: the loaded policy set,
    /// whose `providers` fields select providers as it changes.
    func configuration(policies: (@Sendable () -> PolicySet)? = nil) throws -> RegistryConfiguration {
        var config = RegistryConfiguration()
        config.insecureRegistries = Set(insecureRegistries)
        config.extraCAFile = registryCA
        config.credentials = try CredentialStore.fromDockerConfigFile()
        let named = Set(cloudCredentials)
        if let unknown = named.subtracting(CloudProviders.names).first {
            throw ValidationError("--cloud-credentials \(unknown): must be one of \(CloudProviders.names.joined(separator: ", "))")
        }
        do {
            config.providers = try CloudProviders.make(hosts: try CloudProviders.hostMap(registryProviders), extraCAFile: registryCA) {
                named.union(policies.map { cloudProviderNames(in: $0()) } ?? [])
            }
        } catch let error as CloudCredentialError {
            throw ValidationError("\(error)")
        }
        return config
    }
}

/// The cloud providers the policies' `imageRegistryCredentials.providers` / `credentials.providers` name.
func cloudProviderNames(in set: PolicySet) -> Set<String> {
    Set(set.kyvernoPolicies.flatMap { $0.rules.flatMap { $0.verifyImages.flatMap(\.registryProviders) } }
        + set.imageValidatingPolicies.flatMap(\.credentialProviders))
}

func parseImage(_ text: String) throws -> ImageRef {
    do {
        return try ImageRef(parsing: text)
    } catch {
        throw ValidationError("\(error)")
    }
}

struct ResolveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resolve", abstract: "Print the digest each image reference names now.")

    @OptionGroup var registry: RegistryOptions

    @Option(help: "For multi-arch images also print the manifest for this platform (os/arch[/variant]).")
    var platform: String?

    @Argument(help: "Image references.")
    var images: [String]

    func run() throws {
        let client = try registry.makeClient()
        let deadline = Deadline.after(seconds: registry.timeout)
        let wanted = try platform.map { text -> Platform in
            guard let p = Platform(text) else { throw ValidationError("--platform must be os/arch[/variant], got \"\(text)\"") }
            return p
        }
        var failed = false
        for image in images {
            do {
                let ref = try parseImage(image)
                let descriptor = try client.resolve(ref, deadline: deadline)
                var line = "\(image) → \(ref.name)@\(descriptor.digest)"
                if let wanted {
                    let manifest = try client.manifest(registry: ref.registry, repository: ref.repository, reference: descriptor.digest, deadline: deadline)
                    let chosen = try client.platformManifest(manifest, registry: ref.registry, repository: ref.repository, platform: wanted, deadline: deadline)
                    line += " (\(wanted): \(chosen.digest))"
                }
                print(line)
            } catch {
                failed = true
                printError("\(image): \(error)")
            }
        }
        if failed { throw ExitCode(1) }
    }
}

struct TriangulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "triangulate",
                                                    abstract: "Print where an image's signatures, attestations and referrers live.")

    @OptionGroup var registry: RegistryOptions

    @Option(help: "sig, att, sbom or referrers.")
    var type = "sig"

    @Argument(help: "Image reference.")
    var image: String

    func run() throws {
        let client = try registry.makeClient()
        let deadline = Deadline.after(seconds: registry.timeout)
        let ref = try parseImage(image)
        let digest = try client.resolve(ref, deadline: deadline).digest
        switch type {
        case "sig", "att", "sbom":
            let attachment = RegistryClient.Attachment(rawValue: type)!
            let tag = RegistryClient.cosignTag(for: digest, attachment)
            print("\(ref.name):\(tag)")
            if try client.cosignAttachment(attachment, registry: ref.registry, repository: ref.repository, digest: digest, deadline: deadline) == nil {
                printError("(nothing attached there yet)")
            }
        case "referrers":
            let referrers = try client.referrers(registry: ref.registry, repository: ref.repository, digest: digest, deadline: deadline)
            if referrers.isEmpty { printError("no referrers for \(ref.name)@\(digest)") }
            for manifest in referrers {
                print("\(ref.name)@\(manifest.digest)\t\(manifest.artifactType ?? manifest.config?.mediaType ?? "")")
            }
        default:
            throw ValidationError("--type must be sig, att, sbom or referrers")
        }
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
