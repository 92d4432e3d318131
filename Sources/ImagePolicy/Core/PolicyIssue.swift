/// One problem found while loading or validating a policy document.
/// Rendered as `file: document N: field.path: message`.
public struct PolicyIssue: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }

    public var severity: Severity
    /// Source file path, when the document came from a file.
    public var file: String?
    /// Zero-based index of the YAML document inside the file.
    public var documentIndex: Int?
    /// Field path such as `spec.images[0].glob` (empty for document-level problems).
    public var path: String
    public var message: String

    public init(severity: Severity = .error, file: String? = nil, documentIndex: Int? = nil, path: String, message: String) {
        self.severity = severity
        self.file = file
        self.documentIndex = documentIndex
        self.path = path
        self.message = message
    }

    public var description: String {
        var parts: [String] = []
        if let file { parts.append(file) }
        if let documentIndex { parts.append("document \(documentIndex)") }
        if !path.isEmpty { parts.append(path) }
        let prefix = severity == .warning ? "warning: " : ""
        return parts.joined(separator: ": ") + (parts.isEmpty ? "" : ": ") + prefix + message
    }
}

/// Thrown when loading finds errors; carries every issue (errors and warnings).
public struct PolicyLoadError: Error, Sendable, CustomStringConvertible {
    public var issues: [PolicyIssue]
    public var errors: [PolicyIssue] { issues.filter { $0.severity == .error } }
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}

/// Collects issues while a document is parsed; parsers keep going after an error so that
/// one run reports everything.
final class Diagnostics {
    var issues: [PolicyIssue] = []
    var file: String?
    var documentIndex: Int?

    init(file: String? = nil, documentIndex: Int? = nil) {
        self.file = file
        self.documentIndex = documentIndex
    }

    func error(_ path: String, _ message: String) {
        issues.append(PolicyIssue(severity: .error, file: file, documentIndex: documentIndex, path: path, message: message))
    }

    func warning(_ path: String, _ message: String) {
        issues.append(PolicyIssue(severity: .warning, file: file, documentIndex: documentIndex, path: path, message: message))
    }

    var hasErrors: Bool { issues.contains { $0.severity == .error } }
}

/// Field path helpers (`spec` + `images` + 0 → `spec.images[0]`).
enum FieldPath {
    static func child(_ base: String, _ key: String) -> String {
        let k = key.contains(".") || key.contains("/") ? "[\(JSONValue.quote(key))]" : key
        if k.hasPrefix("[") { return base + k }
        return base.isEmpty ? k : "\(base).\(k)"
    }
    static func index(_ base: String, _ i: Int) -> String { "\(base)[\(i)]" }
}
