import ArgumentParser
import CEL
import Foundation
import SealgateCore

/// `sealgate cel`: the Common Expression Language evaluator on the command line.
struct CELCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cel",
        abstract: "Evaluate CEL expressions (the evaluator policies use).",
        subcommands: [CELEvalCommand.self]
    )
}

/// `sealgate cel eval EXPRESSION [--var NAME=JSON]... [--vars FILE]`: prints the result as JSON
/// (timestamps RFC 3339, durations like 1.5s, bytes base64); exit 1 with the error on stderr.
struct CELEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate one CEL expression and print the result as JSON (exit 1 on any error)."
    )

    @Argument(help: "The CEL expression.") var expression: String
    @Option(name: .customLong("var"), help: "A variable as NAME=JSON, e.g. --var a=41 --var 'obj={\"k\": [1]}'; repeatable.")
    var variables: [String] = []
    @Option(name: .customLong("vars"), help: "A JSON or YAML file holding an object of variables.") var variablesFile: String?
    @Option(name: .customLong("container"), help: "Namespace that names are resolved in.") var container = ""
    @Option(name: .customLong("cost-limit"), help: "Evaluation cost budget.") var costLimit = CELOptions().costLimit

    func run() throws {
        do {
            var values: [String: CELValue] = [:]
            if let variablesFile { values = try Self.readVariablesFile(variablesFile) }
            for assignment in variables {
                let (name, value) = try Self.parseAssignment(assignment)
                values[name] = value
            }
            var options = CELOptions()
            options.container = container
            options.costLimit = costLimit
            let result = try CELProgram(compiling: expression, options).evaluate(values)
            print(try result.jsonText())
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    struct InputError: Error, CustomStringConvertible { let description: String }

    static func parseAssignment(_ text: String) throws -> (String, CELValue) {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw InputError(description: "--var \(text): expected NAME=JSON")
        }
        let name = String(text[..<eq])
        do {
            return (name, try CELValue(jsonData: Data(text[text.index(after: eq)...].utf8)))
        } catch {
            throw InputError(description: "--var \(name): the value is not JSON (quote strings: --var \(name)='\"text\"')")
        }
    }

    /// JSON keeps int, uint and double apart; other text is read as YAML, whose whole numbers become ints.
    static func readVariablesFile(_ path: String) throws -> [String: CELValue] {
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError(description: "cannot read --vars file '\(path)'") }
        let document: CELValue
        if let json = try? CELValue(jsonData: data) {
            document = json
        } else {
            let docs = try YAMLDocuments.parse(String(decoding: data, as: UTF8.self))
            guard docs.count == 1, let doc = docs[0] else { throw InputError(description: "--vars file '\(path)' must hold one document") }
            document = celValue(doc)
        }
        guard case .map(let map) = document else { throw InputError(description: "--vars file '\(path)' must hold an object of variables") }
        var out: [String: CELValue] = [:]
        for (key, value) in map.entries {
            guard case .string(let name) = key else { continue }
            out[name] = value
        }
        return out
    }

    static func celValue(_ v: JSONValue) -> CELValue {
        switch v {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .number(let d):
            if d.rounded() == d, abs(d) < 9.0e15 { return .int(Int64(d)) }
            return .double(d)
        case .string(let s): return .string(s)
        case .array(let a): return .list(a.map(celValue))
        case .object(let o):
            // Keys are unique strings, so building the map cannot fail.
            return .map((try? CELMap(o.sorted { $0.key < $1.key }.map { (.string($0.key), celValue($0.value)) })) ?? CELMap())
        }
    }
}
