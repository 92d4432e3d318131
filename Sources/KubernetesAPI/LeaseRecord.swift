import Foundation
import SealgateCore

/// The `coordination.k8s.io/v1` Lease fields leader election uses (client-go's LeaderElectionRecord), read from and
/// written into a Lease object. Times are MicroTime: RFC 3339 with microseconds, UTC.
public struct LeaseRecord: Equatable, Sendable {
    public var holderIdentity: String
    public var leaseDurationSeconds: Int
    public var acquireTime: Date?
    public var renewTime: Date?
    public var leaseTransitions: Int

    public init(holderIdentity: String, leaseDurationSeconds: Int, acquireTime: Date?, renewTime: Date?, leaseTransitions: Int) {
        self.holderIdentity = holderIdentity
        self.leaseDurationSeconds = leaseDurationSeconds
        self.acquireTime = acquireTime
        self.renewTime = renewTime
        self.leaseTransitions = leaseTransitions
    }

    /// From a Lease object; missing fields read as Kubernetes defaults (empty holder, zero). A spec that is not an
    /// object, or a time that does not parse, is an error naming the field.
    public init(lease: JSONValue) throws {
        let spec = lease["spec"] ?? .object([:])
        guard spec.objectValue != nil else { throw KubeError(code: 0, reason: "BadLease", message: "Lease spec is not an object") }
        holderIdentity = spec["holderIdentity"]?.stringValue ?? ""
        leaseDurationSeconds = Int(spec["leaseDurationSeconds"]?.numberValue ?? 0)
        leaseTransitions = Int(spec["leaseTransitions"]?.numberValue ?? 0)
        acquireTime = try Self.time(spec["acquireTime"], field: "acquireTime")
        renewTime = try Self.time(spec["renewTime"], field: "renewTime")
    }

    /// `lease` (or a new Lease `namespace/name`) with this record as its spec; the resourceVersion stays, so a PUT is conditional.
    public func applied(to lease: JSONValue?, namespace: String, name: String) -> JSONValue {
        var object = lease?.objectValue ?? ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                                            "metadata": ["name": .string(name), "namespace": .string(namespace)]]
        var spec: [String: JSONValue] = ["holderIdentity": .string(holderIdentity),
                                         "leaseDurationSeconds": .number(Double(leaseDurationSeconds)),
                                         "leaseTransitions": .number(Double(leaseTransitions))]
        if let acquireTime { spec["acquireTime"] = .string(Self.format(acquireTime)) }
        if let renewTime { spec["renewTime"] = .string(Self.format(renewTime)) }
        object["spec"] = .object(spec)
        return .object(object)
    }

    static func time(_ value: JSONValue?, field: String) throws -> Date? {
        guard let value, !value.isNull else { return nil }
        guard let text = value.stringValue, let date = parse(text) else {
            throw KubeError(code: 0, reason: "BadLease", message: "Lease spec.\(field) is not an RFC 3339 time: \(value.jsonString.prefix(60))")
        }
        return date
    }

    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        // ISO8601DateFormatter gives milliseconds; MicroTime has six digits.
        let micro = Int((date.timeIntervalSince1970 * 1e6).truncatingRemainder(dividingBy: 1e6))
        let base = formatter.string(from: date)
        guard let dot = base.firstIndex(of: ".") else { return base }
        return String(base[..<dot]) + String(format: ".%06dZ", micro)
    }

    static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        // The formatter reads at most milliseconds: parse the whole seconds and add the fraction (MicroTime has six digits).
        if let dot = text.firstIndex(of: "."), let end = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" }) {
            guard let whole = formatter.date(from: String(text[..<dot]) + String(text[end...])), let fraction = Double("0" + text[dot..<end]) else {
                return nil
            }
            return whole.addingTimeInterval(fraction)
        }
        return formatter.date(from: text)
    }
}
