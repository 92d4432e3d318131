import Admission
import BuildInfo
import Foundation
import PolicyTesting

/// `apply -o html` and `explain -o html`: one self-contained page (inline CSS and a small sorting script, nothing
/// fetched) with the counts, a summary by namespace and by policy, every finding in a sortable table, and for each
/// image that would be denied the check tree `explain` prints. Every piece of user data is escaped.
/// Counts sit in elements with ids and `data-count` attributes, for scripts and tests reading the page.
struct HTMLReport {
    /// One evaluated resource, as both commands have it.
    struct Resource {
        var resource: ResourceID
        var subject: String
        var allowed: Bool
        var images: [ImageDecision]
        var outcomes: [RuleOutcome]

        /// Denied, or admitted only because of warn/audit mode.
        var wouldBeDenied: Bool { !allowed || images.contains { $0.decision == .fail } }
    }

    var resources: [Resource]
    var mode: String

    func render() -> String {
        let denied = resources.filter(\.wouldBeDenied)
        let images = Set(resources.flatMap { $0.images.map(\.image) })
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>sealgate report</title>
        <style>\(HTMLReportAssets.css)</style>
        </head>
        <body>
        <h1>sealgate report</h1>
        <p class="meta">\(Self.escape("mode \(mode) · sealgate \(BuildInfo.current.version) (\(BuildInfo.current.commit)) · \(Date().formatted(.iso8601))"))</p>
        <section id="summary">
        \(Self.count("workloads", resources.count))
        \(Self.count("images", images.count))
        \(Self.count("admitted", resources.count - denied.count))
        \(Self.count("denied", denied.count, label: "would be denied"))
        </section>
        <h2>By namespace</h2>
        \(byNamespace())
        <h2>By policy</h2>
        \(byPolicy())
        <h2>Findings</h2>
        \(findings())
        <h2>Images that would be denied</h2>
        \(deniedTrees(denied))
        <script>\(HTMLReportAssets.script)</script>
        </body>
        </html>
        """
    }

    private static func count(_ id: String, _ n: Int, label: String? = nil) -> String {
        #"<div class="card \#(id)"><span class="n" id="count-\#(id)" data-count="\#(n)">\#(n)</span> \#(label ?? id)</div>"#
    }

    private func byNamespace() -> String {
        let groups = Dictionary(grouping: resources) { $0.resource.namespace ?? "(cluster)" }
        let rows = groups.keys.sorted().map { ns in
            let members = groups[ns]!, denied = members.filter(\.wouldBeDenied).count
            return Self.row([ns, "\(members.count)", "\(members.count - denied)", "\(denied)"], attributes: ["data-namespace": ns])
        }
        return Self.table(id: "by-namespace", ["namespace", "workloads", "admitted", "would be denied"], rows)
    }

    private func byPolicy() -> String {
        let outcomes = resources.flatMap(\.outcomes)
        let groups = Dictionary(grouping: outcomes, by: Self.policyName)
        let rows = groups.keys.sorted().map { policy in
            let results = groups[policy]!.map(\.result)
            return Self.row([policy] + RuleResult.allCases.reversed().map { r in "\(results.filter { $0 == r }.count)" },
                            attributes: ["data-policy": policy])
        }
        return Self.table(id: "by-policy", ["policy"] + RuleResult.allCases.reversed().map(\.rawValue), rows)
    }

    private func findings() -> String {
        let rows = resources.flatMap { r in
            r.outcomes.map { o in
                Self.row([o.resource.namespace ?? "", r.subject, Self.policyName(o), o.rule.isEmpty ? "-" : o.rule, o.result.rawValue, o.message],
                         attributes: ["data-result": o.result.rawValue, "class": "result-\(o.result.rawValue)"])
            }
        }
        return Self.table(id: "findings", ["namespace", "resource", "policy", "rule", "result", "message"], rows)
    }

    private func deniedTrees(_ denied: [Resource]) -> String {
        let sections = denied.flatMap { r in
            r.images.filter { $0.decision == .fail }.map { image in
                let tree = ExplainCommand.imageTree(image).joined(separator: "\n")
                return #"<details class="denied" open><summary>\#(Self.escape(r.subject))</summary><pre>\#(Self.escape(tree))</pre></details>"#
            }
        }
        return sections.isEmpty ? #"<p id="no-denied">None.</p>"# : #"<div id="denied">\#n\#(sections.joined(separator: "\n"))</div>"#
    }

    private static func policyName(_ o: RuleOutcome) -> String { o.policyKind == "-" ? "(admission)" : "\(o.policyKind)/\(o.policy)" }

    private static func table(id: String, _ headers: [String], _ rows: [String]) -> String {
        let head = headers.map { "<th>\(escape($0))</th>" }.joined()
        return #"<table id="\#(id)" class="sortable"><thead><tr>\#(head)</tr></thead><tbody>"# + "\n" + rows.joined(separator: "\n") + "\n</tbody></table>"
    }

    private static func row(_ cells: [String], attributes: [String: String]) -> String {
        let attrs = attributes.sorted { $0.key < $1.key }.map { " \($0.key)=\"\(escape($0.value))\"" }.joined()
        return "<tr\(attrs)>" + cells.map { "<td>\(escape($0))</td>" }.joined() + "</tr>"
    }

    /// Text and attribute values: image names, messages and resource names come from the evaluated objects.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
