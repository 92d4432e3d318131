import ArgumentParser

// Placeholder: the policy engine work (issue 7) replaces this file.
struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lint", abstract: "Validate policy files (not yet implemented).")
    func run() throws { throw ValidationError("lint is not implemented yet") }
}
