import Admission
import ArgumentParser
import Foundation
import ImagePolicy
import PolicyTesting

/// `sealgate test`: runs `kyverno-test.yaml` files unchanged and compares the engine's rule results with theirs.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run kyverno-test.yaml files (cli.kyverno.io/v1alpha1 Test or the older form) against sealgate's engine.",
        discussion: """
        Each test file names policy and resource files and the expected result per (policy, rule, resource): \
        pass, fail, skip, warn or error. A rule's result over a resource's images: fail if any image fails, \
        error for transient failures (registry unreachable), skip when no image matched. ClusterImagePolicies \
        are named by policy with an empty rule.
        Exit status: 0 when every result matches, 1 on any mismatch, 2 on usage or input errors.
        """)

    @Argument(help: "Directories (searched for kyverno-test.yaml) or test files.")
    var paths: [String] = []

    @OptionGroup var verification: VerificationOptions

    @Flag(help: "Add each result's message: per image, which authority/attestor passed or which check failed and why.")
    var detailedResults = false

    @Flag(help: "Show only rows that did not match.")
    var failOnly = false

    @Flag(help: "Report failures of Audit (and warn-mode) policies as warn rather than fail.")
    var auditWarn = false

    @Option(name: [.customShort("o"), .customLong("output")], help: "table, json or junit.")
    var output = "table"

    @Flag(help: "No progress line on stderr (shown only when stderr is a terminal).")
    var quiet = false

    func validate() throws {
        guard ["table", "json", "junit"].contains(output) else { throw ValidationError("--output must be table, json or junit") }
    }

    func run() throws {
        try usageErrors("test") { try test() }
    }

    private func test() throws {
        guard !paths.isEmpty else { throw ValidationError("usage: sealgate test DIR... (directories with kyverno-test.yaml files, or test files)") }
        var files: [String] = []
        for path in paths {
            guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("\(path): no such file or directory") }
            let found = KyvernoTest.find(in: path)
            guard !found.isEmpty else { throw ValidationError("\(path): no kyverno-test.yaml found") }
            files += found
        }
        var all: [TestRow] = []
        let progress = ProgressLine(total: files.count, noun: "test files", quiet: quiet)
        for file in files {
            let test: KyvernoTest
            do { test = try KyvernoTest.load(file: file) } catch { throw ValidationError("\(error)") }
            let rows = try run(test)
            all += rows
            if output == "table" {
                progress.clear()
                print("Loading test ( \(file) ) ...")
                print("  Applying \(test.policies.count) policy file(s) to \(test.resources.count) resource file(s) ...")
                print("  Checking results ...")
                let shown = failOnly ? rows.filter { !$0.passed } : rows
                if !shown.isEmpty { print(Table.testRows(shown, detailed: detailedResults)) }
                print("")
            }
            progress.advance()
        }
        progress.clear()
        let failed = all.filter { !$0.passed }
        switch output {
        case "json": print(try Render.json(try Render.foundation(failOnly ? failed : all)))
        case "junit": print(Render.junit(failOnly ? failed : all))
        default: print("Test Summary: \(all.count - failed.count) tests passed and \(failed.count) tests failed")
        }
        for row in failed {
            let rule = row.rule.isEmpty ? "" : "/\(row.rule)"
            FileHandle.standardError.write(Data("sealgate test: mismatch at \(row.location): \(row.policy)\(rule) \(row.resource): \(row.reason)\n".utf8))
        }
        if !failed.isEmpty { throw ExitCode(1) }
    }

    private func run(_ test: KyvernoTest) throws -> [TestRow] {
        for field in test.ignored {
            FileHandle.standardError.write(Data("sealgate test: \(test.file): \(field) is not applied by sealgate (image verification does not use it)\n".utf8))
        }
        let loaded = PolicyLoader.load(paths: test.policies)
        if loaded.hasErrors {
            throw ValidationError("\(test.file): policies: " + loaded.errors.map { "\($0)" }.joined(separator: "; "))
        }
        // Namespace labels come from the Values only (kyverno test without clusterResources); unlisted: none.
        let setting = RequestSetting(values: test.values, user: test.user)
        var requests: [AdmissionRequest] = []
        for file in test.resources { requests += try readResources(file).map(setting.prepare) }
        let decider = try verification.makeDecider(policyPaths: test.policies, settings: AdmissionSettings(), adjustContext: setting.adjust)
        let wantsPatch = test.results.contains { $0.patchedResources != nil }
        let evaluated = evaluate(requests, decider: decider, timeout: verification.registry.timeout, patch: wantsPatch, auditWarn: auditWarn)
        let outcomes = evaluated.flatMap(\.outcomes)
        return TestComparison.compare(test, policies: loaded.policies, resources: evaluated.map(\.resource), outcomes: outcomes) { expected, resource in
            guard let file = expected.patchedResources, let e = evaluated.first(where: { $0.resource == resource }), let object = e.request.object else { return nil }
            return PatchedResource.mismatch(expectedFile: file, object: object, patch: e.patch)
        }
    }
}

/// One evaluated resource: its rule outcomes, the validating answer and (when asked) the mutating patch.
struct EvaluatedResource: Sendable {
    var request: AdmissionRequest
    var resource: ResourceID
    var allowed: Bool
    var images: [ImageDecision]
    var outcomes: [RuleOutcome]
    var patch: Data?
}

/// Resources of a manifest/List/AdmissionReview file (`-`: stdin); namespaced kinds without a namespace go to `default`.
func readResources(_ file: String) throws -> [AdmissionRequest] {
    let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
    guard let data else { throw ValidationError("cannot read \(file)") }
    do {
        return try ResourceRequests.parse(String(decoding: data, as: UTF8.self), source: file == "-" ? "stdin" : file).map { r in
            var r = r
            if r.namespace == nil { r.namespace = ResourceID(object: r.object).namespace }
            return r
        }
    } catch { throw ValidationError("\(error)") }
}

func evaluate(_ requests: [AdmissionRequest], decider: PolicyDecider, timeout: Double, patch: Bool, auditWarn: Bool,
              progress: ProgressLine? = nil) -> [EvaluatedResource] {
    runBlocking {
        var out: [EvaluatedResource] = []
        for request in requests {
            let validated = await decider.explain(request, mutating: false, timeout: timeout)
            let mutated = patch ? await decider.decideAsync(request, mutating: true, timeout: timeout).patch : nil
            let id = ResourceID(object: request.object)
            out.append(EvaluatedResource(request: request, resource: id, allowed: validated.response.allowed, images: validated.images,
                                         outcomes: RuleOutcomes.outcomes(resource: id, images: validated.images, auditWarn: auditWarn), patch: mutated))
            progress?.advance()
        }
        return out
    }
}
