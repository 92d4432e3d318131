/// Kyverno's `AddVariable`: a dotted name (`request.operation`, `foo.bar`) sets a nested value in the JMESPath root.
enum KyvernoVariables {
    static func set(_ root: [String: JSONValue], path: [String], _ value: JSONValue) -> [String: JSONValue] {
        guard let first = path.first else { return root }
        var out = root
        if path.count == 1 {
            out[first] = value
        } else {
            out[first] = .object(set(root[first]?.objectValue ?? [:], path: Array(path.dropFirst()), value))
        }
        return out
    }
}
