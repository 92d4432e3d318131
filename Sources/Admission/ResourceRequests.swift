import Foundation
import SealgateCore

/// Turns what users have at hand — manifests (YAML or JSON, multi-document), `kubectl get -o json`
/// Lists, or AdmissionReviews — into the admission requests the API server would send for them,
/// so the CLI replays exactly the webhook's decision.
public enum ResourceRequests {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Every resource in `text` (from `source`, for messages) as a CREATE request.
    public static func parse(_ text: String, source: String) throws -> [AdmissionRequest] {
        let documents: [JSONValue?]
        do { documents = try YAMLDocuments.parse(text) } catch { throw Failure(description: "\(source): \(error)") }
        var requests: [AdmissionRequest] = []
        for (i, document) in documents.enumerated() {
            guard let document, !document.isNull else { continue }
            let at = documents.count > 1 ? "\(source) (document \(i + 1))" : source
            requests += try self.requests(in: document, at: at)
        }
        return requests
    }

    static func requests(in document: JSONValue, at location: String) throws -> [AdmissionRequest] {
        guard document.objectValue != nil else { throw Failure(description: "\(location): expected a Kubernetes object, got \(document.typeName)") }
        let kind = document["kind"]?.stringValue ?? ""
        switch kind {
        case "AdmissionReview":
            guard let request = document["request"] else { throw Failure(description: "\(location): AdmissionReview has no request") }
            guard request.objectValue != nil else { throw Failure(description: "\(location): AdmissionReview request is not an object") }
            do {
                return [try AdmissionReviewDecoding.request(request)]
            } catch {
                throw Failure(description: "\(location): malformed AdmissionReview: \(error)")
            }
        case let list where list == "List" || list.hasSuffix("List"):
            let items = document["items"]?.arrayValue ?? []
            return try items.enumerated().flatMap { try requests(in: $0.element, at: "\(location) items[\($0.offset)]") }
        case "":
            throw Failure(description: "\(location): object has no kind")
        default:
            return [try request(for: document, at: location)]
        }
    }

    /// A CREATE request for one object, with group/version from `apiVersion` and the plural resource name.
    public static func request(for object: JSONValue, operation: String = "CREATE", at location: String = "") throws -> AdmissionRequest {
        guard let kind = object["kind"]?.stringValue, !kind.isEmpty else { throw Failure(description: "\(location): object has no kind") }
        guard let apiVersion = object["apiVersion"]?.stringValue, !apiVersion.isEmpty else {
            throw Failure(description: "\(location): \(kind) has no apiVersion")
        }
        let parts = apiVersion.split(separator: "/", maxSplits: 1).map(String.init)
        let group = parts.count == 2 ? parts[0] : ""
        let version = parts.count == 2 ? parts[1] : parts[0]
        let metadata = object["metadata"]
        return AdmissionRequest(uid: UUID().uuidString.lowercased(), kind: GroupVersionKind(group: group, version: version, kind: kind),
                                resource: GroupVersionResource(group: group, version: version, resource: plural(kind)),
                                name: metadata?["name"]?.stringValue, namespace: metadata?["namespace"]?.stringValue,
                                operation: operation, object: object)
    }

    /// Kubernetes' default plural for a kind (`Pod` → `pods`, `NetworkPolicy` → `networkpolicies`).
    static func plural(_ kind: String) -> String {
        let lower = kind.lowercased()
        if lower.hasSuffix("s") { return lower + "es" }
        if lower.hasSuffix("y"), let last = lower.dropLast().last, !"aeiou".contains(last) { return lower.dropLast() + "ies" }
        return lower + "s"
    }
}
