import Foundation
import TestSupport
@testable import ImagePolicy

/// One row of docs/COMPATIBILITY.md: `| kinds: versions | `path` | status | covered by | notes |`.
public struct CompatibilityRow: CustomStringConvertible {
    public enum Status: String, CaseIterable {
        case implemented
        case refused
        case warnsFailsClosed = "warns, fails closed"
        case noEffect = "no effect"
    }

    public var line: Int
    public var kinds: [String]
    /// Empty: every served version.
    public var versions: [String]
    /// `*` is the whole document (a kind refused as a whole).
    public var path: String
    public var status: Status
    /// The first `code` span of the "covered by" cell: `File.swift: test name`, or a refusal's message fragment.
    public var coveredBy: String
    /// The whole "covered by" cell (a reason, for `no effect`).
    public var coveredByText: String
    /// From the notes: "when `VALUE`" is the value the refusal applies to (YAML), instead of a sample of the type.
    public var refusedValue: String?

    public var description: String { "COMPATIBILITY.md:\(line) \(kinds.joined(separator: ", ")) `\(path)` (\(status.rawValue))" }

    public func applies(to kind: CRDKind) -> Bool {
        kinds.contains(kind.kind) && (versions.isEmpty || versions.contains(kind.version))
    }

    /// This row's path is `path` or one of its ancestors.
    public func covers(_ fieldPath: String) -> Bool {
        path == "*" || path == fieldPath || Self.isBelow(fieldPath, path)
    }

    /// `path` lies below `ancestor` (`a.b` below `a`, `a[].b` below `a`, `a{}[].b` below `a`).
    public static func isBelow(_ path: String, _ ancestor: String) -> Bool {
        guard path.count > ancestor.count, path.hasPrefix(ancestor) else { return false }
        let rest = path.dropFirst(ancestor.count)
        return rest.hasPrefix(".") || rest.hasPrefix("[]") || rest.hasPrefix("{}")
    }

    /// `(File.swift, test name)` for test references.
    public var testReference: (file: String, name: String)? {
        guard let colon = coveredBy.range(of: ": ") else { return nil }
        let file = String(coveredBy[..<colon.lowerBound]), name = String(coveredBy[colon.upperBound...])
        return file.hasSuffix(".swift") && !name.isEmpty ? (file, name) : nil
    }
}

public enum CompatibilityTable {
    public static let file = TestPaths.packageRoot.appendingPathComponent("docs/COMPATIBILITY.md")

    /// Rows of every table whose second column is a `code` path; problems (bad status, missing cells) are returned too.
    public static func parse(_ text: String) -> (rows: [CompatibilityRow], problems: [String]) {
        var rows: [CompatibilityRow] = [], problems: [String] = []
        for (i, raw) in text.components(separatedBy: "\n").enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("|") else { continue }
            let cells = line.dropFirst().split(separator: "|", omittingEmptySubsequences: false).dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 4, let path = codeSpan(cells[1]) else { continue }
            guard let status = CompatibilityRow.Status(rawValue: cells[2]) else {
                problems.append("COMPATIBILITY.md:\(i + 1): unknown status \"\(cells[2])\" (want one of \(CompatibilityRow.Status.allCases.map(\.rawValue)))")
                continue
            }
            let kindCell = cells[0].split(separator: ":", maxSplits: 1).map(String.init)
            let list = { (s: String) in s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
            let notes = cells.count > 4 ? cells[4] : ""
            var refusedValue: String?
            if let when = notes.range(of: "when `") {
                let rest = notes[when.upperBound...]
                refusedValue = rest.firstIndex(of: "`").map { String(rest[..<$0]) }
            }
            rows.append(CompatibilityRow(line: i + 1, kinds: list(kindCell[0]), versions: kindCell.count > 1 ? list(kindCell[1]) : [],
                                         path: path, status: status, coveredBy: codeSpan(cells[3]) ?? "", coveredByText: cells[3],
                                         refusedValue: refusedValue))
        }
        return (rows, problems)
    }

    /// The text of the first `code` span.
    public static func codeSpan(_ cell: String) -> String? {
        guard let start = cell.firstIndex(of: "`") else { return nil }
        let rest = cell[cell.index(after: start)...]
        guard let end = rest.firstIndex(of: "`") else { return nil }
        return String(rest[..<end])
    }

    /// The most specific row for a field of a kind: the exact path, else the nearest ancestor.
    public static func row(for path: String, of kind: CRDKind, in rows: [CompatibilityRow]) -> CompatibilityRow? {
        rows.filter { $0.applies(to: kind) && $0.covers(path) }.max { specificity($0.path) < specificity($1.path) }
    }

    public static func specificity(_ path: String) -> Int { path == "*" ? -1 : path.count }
}
