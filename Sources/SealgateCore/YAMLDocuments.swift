import Yams

/// Splits (multi-document) YAML or JSON text into JSON values using Yams.
public enum YAMLDocuments {
    public struct Failure: Error, CustomStringConvertible { public let description: String }

    /// Kubernetes-style scalar resolution: only true/false are booleans and timestamps stay
    /// strings (Yams' YAML 1.1 defaults would turn `on`/`yes` into booleans).
    static let resolver: Resolver = {
        let bool = try! Resolver.Rule(.bool, "^(?:true|True|TRUE|false|False|FALSE)$")
        return Resolver.basic.appending(bool).appending(.int).appending(.float).appending(.null)
    }()

    public static func parse(_ text: String) throws(Failure) -> [JSONValue?] {
        do {
            // Parser.nextRoot, not compose_all: compose_all's sequence ends silently at a syntax error,
            // which would drop every document after it (a deny policy among them).
            let parser = try Parser(yaml: text, resolver: resolver)
            var docs: [JSONValue?] = []
            while let node = try parser.nextRoot() {
                docs.append(try convert(node))
            }
            return docs
        } catch let f as Failure {
            throw f
        } catch {
            throw Failure(description: "YAML syntax error: \(error)")
        }
    }

    /// nil for an empty document.
    static func convert(_ node: Node) throws -> JSONValue? {
        switch node {
        case .scalar(let s):
            switch Tag.Name(rawValue: node.tag.rawValue) {  // node.tag resolves implicit tags
            case .null: return .null
            case .bool: return .bool(node.bool ?? false)
            case .int:
                if let i = node.int { return .number(Double(i)) }
                return .string(s.string)
            case .float:
                if let f = node.float { return .number(f) }
                return .string(s.string)
            default: return .string(s.string)
            }
        case .sequence(let seq):
            return .array(try seq.map { try convert($0) ?? .null })
        case .mapping(let map):
            var out: [String: JSONValue] = [:]
            for (k, v) in map {
                guard case .scalar(let ks) = k else { throw Failure(description: "mapping keys must be scalars") }
                if out[ks.string] != nil { throw Failure(description: "duplicate key \"\(ks.string)\"") }
                out[ks.string] = try convert(v) ?? .null
            }
            return .object(out)
        case .alias:
            throw Failure(description: "YAML aliases are not supported")
        }
    }
}
