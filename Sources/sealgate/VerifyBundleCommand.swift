import ArgumentParser

// Placeholder: the Sigstore verification work (issue 4) replaces this file.
struct VerifyBundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify-bundle", abstract: "Verify a Sigstore bundle (not yet implemented).")
    func run() throws { throw ValidationError("verify-bundle is not implemented yet") }
}
