import Foundation

/// AdmissionReview requests as the API server sends them, built from a workload's images.
public enum AdmissionReviews {
    public enum Kind: String, Sendable {
        case pod = "Pod", deployment = "Deployment", cronJob = "CronJob"

        var group: String { self == .pod ? "" : (self == .deployment ? "apps" : "batch") }
        var version: String { self == .pod ? "v1" : "\(group)/v1" }
        var resource: String { self == .pod ? "pods" : (self == .deployment ? "deployments" : "cronjobs") }
    }

    /// A pod spec: `containers` as (name, image), and optionally `ephemeralContainers`.
    public static func podSpec(_ containers: [(name: String, image: String)], ephemeral: [(name: String, image: String)] = []) -> String {
        func list(_ items: [(name: String, image: String)]) -> String {
            items.map { #"{"name":"\#($0.name)","image":"\#($0.image)"}"# }.joined(separator: ",")
        }
        var spec = #"{"containers":[\#(list(containers))]"#
        if !ephemeral.isEmpty { spec += #","ephemeralContainers":[\#(list(ephemeral))]"# }
        return spec + "}"
    }

    /// Containers named c0, c1, … running `images`.
    public static func numbered(_ images: [String]) -> [(name: String, image: String)] {
        images.enumerated().map { ("c\($0.offset)", $0.element) }
    }

    /// The workload object of `kind` whose pod template is `spec`.
    public static func object(_ kind: Kind = .pod, name: String = "web", namespace: String = "shop", spec: String) -> String {
        let metadata = #"{"name":"\#(name)","namespace":"\#(namespace)"}"#
        let body: String
        switch kind {
        case .pod: body = spec
        case .deployment: body = #"{"template":{"spec":\#(spec)}}"#
        case .cronJob: body = #"{"jobTemplate":{"spec":{"template":{"spec":\#(spec)}}}}"#
        }
        return #"{"apiVersion":"\#(kind.version)","kind":"\#(kind.rawValue)","metadata":\#(metadata),"spec":\#(body)}"#
    }

    /// The AdmissionReview of `operation` on `object` (a `kind`), with `oldObject` for updates.
    public static func review(_ object: String, kind: Kind = .pod, uid: String = UUID().uuidString, namespace: String = "shop",
                              operation: String = "CREATE", dryRun: Bool? = nil, oldObject: String? = nil, subResource: String? = nil) -> String {
        let gvk = #"{"group":"\#(kind.group)","version":"v1","kind":"\#(kind.rawValue)"}"#
        let gvr = #"{"group":"\#(kind.group)","version":"v1","resource":"\#(kind.resource)"}"#
        var request = #"{"uid":"\#(uid)","kind":\#(gvk),"resource":\#(gvr)"#
        if let subResource { request += #","subResource":"\#(subResource)""# }
        request += #","namespace":"\#(namespace)","operation":"\#(operation)""#
        if let dryRun { request += #","dryRun":\#(dryRun)"# }
        request += #","object":\#(object)"#
        if let oldObject { request += #","oldObject":\#(oldObject)"# }
        return #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":\#(request)}}"#
    }

    /// A review of a Pod `shop/web` whose containers (c0, c1, …) run `images`.
    public static func pod(_ images: [String], uid: String = UUID().uuidString, operation: String = "CREATE", dryRun: Bool? = nil) -> String {
        review(object(spec: podSpec(numbered(images))), uid: uid, operation: operation, dryRun: dryRun)
    }

    /// Writes `json` as `review-<uuid>.json` into `directory`; returns its path.
    public static func write(_ json: String, in directory: URL) throws -> String {
        let path = directory.appendingPathComponent("review-\(UUID().uuidString).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
