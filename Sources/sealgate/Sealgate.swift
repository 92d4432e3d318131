import ArgumentParser
import BuildInfo

@main
struct Sealgate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sealgate",
        abstract: "Kubernetes admission webhook that admits only signed and attested container images.",
        version: BuildInfo.current.text,
        subcommands: [ServeCommand.self, VerifyBundleCommand.self, LintCommand.self, ResolveCommand.self, TriangulateCommand.self, VerifyCommand.self, VerifyAttestationCommand.self, ExplainCommand.self, TestCommand.self, ApplyCommand.self, SaveCommand.self, VerifyBlobCommand.self, VerifyProvenanceCommand.self, VerifyTlogCommand.self, TUFCommand.self, CELCommand.self, VersionCommand.self]
    )
}
