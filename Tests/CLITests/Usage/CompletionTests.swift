import Foundation
import Testing
import TestSupport

/// `sealgate --generate-completion-script SHELL` (swift-argument-parser) for the shells the README names.
struct CompletionTests {
    @Test("bash, zsh and fish scripts name the subcommands; bash -n parses the bash one", arguments: ["bash", "zsh", "fish"])
    func completionScript(shell: String) throws {
        let run = try SealgateCLI.run(["--generate-completion-script", shell])
        #expect(run.status == 0, "\(run.stderr)")
        for subcommand in ["serve", "apply", "explain", "version"] {
            #expect(run.stdout.contains(subcommand), "\(shell) completion lacks \(subcommand)")
        }
        guard shell == "bash" else { return }
        let parsed = try Subprocess.run("bash", ["-n"], stdin: Data(run.stdout.utf8))
        #expect(parsed.status == 0, "\(parsed.stderr)")
    }
}
