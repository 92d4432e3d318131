import Foundation
import KubernetesAPI
import Logging
import PolicyTesting
import SealgateCore

/// Keeps the cluster's PolicyReports (one per namespace) and ClusterPolicyReport equal to the scan's results, using
/// the same writer as `sealgate apply -o policyreport`: creates what is missing, updates in place what changed (a
/// conditional PUT; on 409 Conflict it reads the report again and retries once), deletes reports of namespaces
/// without results. A result unchanged since the last write keeps its timestamp, so an unchanged report is not written.
public final class ReportReconciler: @unchecked Sendable {
    public struct Writes: Equatable, Sendable {
        public var created = 0, updated = 0, deleted = 0, unchanged = 0
        public init() {}
    }

    struct Key: Hashable { var namespace: String?; var name: String }

    private let client: KubeClient
    private let fieldManager: String
    private let logger: Logger
    /// What the API server holds of ours (nil: read it first).
    private var known: [Key: JSONValue]?
    static let managedBy = "sealgate"

    public init(client: KubeClient, fieldManager: String, logger: Logger) {
        self.client = client
        self.fieldManager = fieldManager
        self.logger = logger
    }

    /// Forget what was read (a new leader reads the reports again before writing).
    public func reset() { known = nil }

    /// `mayWrite` is asked before every write (the lease is still held); when it says no, nothing more is written.
    public func reconcile(_ outcomes: [RuleOutcome], now: Date = Date(), mayWrite: () -> Bool) throws -> Writes {
        if known == nil { known = try readExisting() }
        var writes = Writes()
        var desired: [Key: JSONValue] = [:]
        for report in PolicyReports.build(outcomes, at: now) {
            let value = try Self.json(report)
            let key = Key(namespace: value["metadata"]?["namespace"]?.stringValue, name: value["metadata"]?["name"]?.stringValue ?? "")
            desired[key] = value
        }
        for (key, report) in desired.sorted(by: { ($0.key.namespace ?? "", $0.key.name) < ($1.key.namespace ?? "", $1.key.name) }) {
            let resource = key.namespace == nil ? WorkloadResources.clusterPolicyReports : WorkloadResources.policyReports
            let existing = known?[key]
            let merged = Self.keepingTimestamps(report, from: existing)
            if let existing, Self.content(existing) == Self.content(merged) {
                writes.unchanged += 1
                continue
            }
            guard mayWrite() else { return writes }
            known?[key] = try write(merged, existing: existing, resource: resource, key: key)
            if existing == nil { writes.created += 1 } else { writes.updated += 1 }
        }
        for key in (known ?? [:]).keys where desired[key] == nil {
            guard mayWrite() else { return writes }
            let resource = key.namespace == nil ? WorkloadResources.clusterPolicyReports : WorkloadResources.policyReports
            do { try client.deleteObject(resource, namespace: key.namespace, name: key.name, fieldManager: fieldManager) } catch {
                throw ScanError("deleting \(resource.kind) \(key.namespace.map { "\($0)/" } ?? "")\(key.name): \(error)")
            }
            known?[key] = nil
            writes.deleted += 1
        }
        return writes
    }

    private func write(_ report: JSONValue, existing: JSONValue?, resource: KubeResource, key: Key) throws -> JSONValue {
        let what = "\(resource.kind) \(key.namespace.map { "\($0)/" } ?? "")\(key.name)"
        do {
            guard let existing else {
                do {
                    return try client.create(resource, namespace: key.namespace, report, fieldManager: fieldManager)
                } catch let error as KubeError where error.code == 409 {
                    // Written since we read: update that one instead.
                    guard let current = try client.getObject(resource, namespace: key.namespace, name: key.name) else { throw error }
                    return try client.update(resource, namespace: key.namespace, name: key.name, Self.carrying(report, from: current), fieldManager: fieldManager)
                }
            }
            do {
                return try client.update(resource, namespace: key.namespace, name: key.name, Self.carrying(report, from: existing), fieldManager: fieldManager)
            } catch let error as KubeError where error.code == 409 || error.code == 404 {
                guard let current = try client.getObject(resource, namespace: key.namespace, name: key.name) else {
                    return try client.create(resource, namespace: key.namespace, report, fieldManager: fieldManager)
                }
                return try client.update(resource, namespace: key.namespace, name: key.name, Self.carrying(report, from: current), fieldManager: fieldManager)
            }
        } catch {
            throw ScanError("writing \(what): \(error)")
        }
    }

    /// Our reports as the API server has them (labelled managed-by sealgate); a report type not served counts as none.
    private func readExisting() throws -> [Key: JSONValue] {
        var found: [Key: JSONValue] = [:]
        for resource in [WorkloadResources.policyReports, WorkloadResources.clusterPolicyReports] {
            let items: [JSONValue]
            do { items = try client.list(resource).items } catch let error as KubeError where error.code == 404 {
                logger.warning("report type not served (CRD not installed?)", metadata: ["resource": "\(resource)"])
                continue
            } catch {
                throw ScanError("reading existing \(resource): \(error)")
            }
            for item in items where item["metadata"]?["labels"]?["app.kubernetes.io/managed-by"]?.stringValue == Self.managedBy {
                guard let name = item["metadata"]?["name"]?.stringValue else { continue }
                found[Key(namespace: resource == WorkloadResources.policyReports ? item["metadata"]?["namespace"]?.stringValue : nil, name: name)] = item
            }
        }
        return found
    }

    static func json(_ report: [String: Any]) throws -> JSONValue {
        try JSONValue.parse(data: JSONSerialization.data(withJSONObject: report))
    }

    /// What a report says, without server fields: equal content needs no write.
    static func content(_ report: JSONValue) -> JSONValue {
        ["results": report["results"] ?? .array([]), "summary": report["summary"] ?? .null,
         "labels": report["metadata"]?["labels"] ?? .null]
    }

    /// The existing report's resourceVersion (conditional update) and other metadata, with the new content.
    static func carrying(_ report: JSONValue, from existing: JSONValue) -> JSONValue {
        guard var fields = report.objectValue, var meta = existing["metadata"]?.objectValue else { return report }
        for (k, v) in report["metadata"]?.objectValue ?? [:] { meta[k] = v }
        meta["managedFields"] = nil
        fields["metadata"] = .object(meta)
        return .object(fields)
    }

    /// Results equal to one already reported (but for the time) keep the time they were first found.
    static func keepingTimestamps(_ report: JSONValue, from existing: JSONValue?) -> JSONValue {
        guard let existing, var fields = report.objectValue, let results = report["results"]?.arrayValue else { return report }
        var times: [JSONValue: JSONValue] = [:]
        for old in existing["results"]?.arrayValue ?? [] { times[withoutTime(old)] = old["timestamp"] }
        fields["results"] = .array(results.map { result in
            guard let time = times[withoutTime(result)], var r = result.objectValue else { return result }
            r["timestamp"] = time
            return .object(r)
        })
        return .object(fields)
    }

    static func withoutTime(_ result: JSONValue) -> JSONValue {
        guard var r = result.objectValue else { return result }
        r["timestamp"] = nil
        return .object(r)
    }
}
