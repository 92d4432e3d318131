import ArgumentParser
import ImagePolicy

/// `sealgate lint FILE|DIR...`: validates ClusterImagePolicy, TrustRoot and Kyverno policies.
/// Prints every problem as `file: document N: field.path: message`; exits 0 when all
/// documents are valid, 1 otherwise.
struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Validate image policies (ClusterImagePolicy, TrustRoot, Kyverno ClusterPolicy/Policy).")

    @Argument(help: "Policy files or directories (.yaml, .yml, .json; directories are searched recursively).")
    var paths: [String]

    @Flag(help: "Treat warnings (for example KMS keys, which sealgate cannot use) as errors.")
    var strict = false

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give at least one file or directory") }
    }

    func run() throws {
        let result = PolicyLoader.load(paths: paths)
        for issue in result.issues {
            print(issue.description)
        }
        let policies = result.policies.policyCount
        let failed = result.hasErrors || (strict && !result.warnings.isEmpty)
        print("\(policies) valid \(policies == 1 ? "policy" : "policies"), \(result.errors.count) error(s), \(result.warnings.count) warning(s)")
        if failed { throw ExitCode(1) }
    }
}
