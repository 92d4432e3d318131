import Foundation
import SealgateCore

/// Reads an AdmissionReview from the request body: JSONSerialization, then the envelope field by field.
/// (JSONDecoder would decode the embedded objects through JSONValue's try-each-type init, which
/// dominated the warm path's CPU profile.) Errors name the field: `missing field request.uid`.
public enum AdmissionReviewDecoding {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func decode(_ body: [UInt8]) throws(Failure) -> AdmissionReview {
        let root: JSONValue
        do {
            root = try JSONValue.parse(data: Data(body))
        } catch {
            throw Failure(description: "invalid JSON: \(Self.reason(error))")
        }
        let object = try Self.object(root, at: "")
        var review = AdmissionReview(apiVersion: try string(object, "apiVersion", at: ""), kind: try string(object, "kind", at: ""))
        if let request = object["request"], !request.isNull {
            review.request = try Self.request(try Self.object(request, at: "request"))
        }
        return review
    }

    static func request(_ o: [String: JSONValue]) throws(Failure) -> AdmissionRequest {
        let at = "request"
        let uid = try string(o, "uid", at: at)  // first, as the API server's field order
        let kind = try object(try required(o, "kind", at: at), at: "request.kind")
        let resource = try object(try required(o, "resource", at: at), at: "request.resource")
        var dryRun: Bool?
        if let value = o["dryRun"], !value.isNull {
            guard let b = value.boolValue else { throw Failure(description: "wrong type at request.dryRun: expected a boolean, got \(value.typeName)") }
            dryRun = b
        }
        return AdmissionRequest(
            uid: uid,
            kind: GroupVersionKind(group: try string(kind, "group", at: "request.kind"), version: try string(kind, "version", at: "request.kind"),
                                   kind: try string(kind, "kind", at: "request.kind")),
            resource: GroupVersionResource(group: try string(resource, "group", at: "request.resource"),
                                           version: try string(resource, "version", at: "request.resource"),
                                           resource: try string(resource, "resource", at: "request.resource")),
            subResource: try optionalString(o, "subResource", at: at), name: try optionalString(o, "name", at: at),
            namespace: try optionalString(o, "namespace", at: at), operation: try string(o, "operation", at: at),
            userInfo: present(o["userInfo"]), object: present(o["object"]), oldObject: present(o["oldObject"]),
            dryRun: dryRun, options: present(o["options"]))
    }

    private static func present(_ value: JSONValue?) -> JSONValue? {
        guard let value, !value.isNull else { return nil }
        return value
    }

    private static func object(_ value: JSONValue, at path: String) throws(Failure) -> [String: JSONValue] {
        guard let o = value.objectValue else {
            throw Failure(description: path.isEmpty ? "expected a JSON object, got \(value.typeName)"
                                                    : "wrong type at \(path): expected an object, got \(value.typeName)")
        }
        return o
    }

    private static func required(_ o: [String: JSONValue], _ key: String, at path: String) throws(Failure) -> JSONValue {
        let field = path.isEmpty ? key : "\(path).\(key)"
        guard let value = o[key] else { throw Failure(description: "missing field \(field)") }
        guard !value.isNull else { throw Failure(description: "wrong type at \(field): expected a value, got null") }
        return value
    }

    private static func string(_ o: [String: JSONValue], _ key: String, at path: String) throws(Failure) -> String {
        let value = try required(o, key, at: path)
        guard let s = value.stringValue else {
            throw Failure(description: "wrong type at \(path.isEmpty ? key : "\(path).\(key)"): expected a string, got \(value.typeName)")
        }
        return s
    }

    private static func optionalString(_ o: [String: JSONValue], _ key: String, at path: String) throws(Failure) -> String? {
        guard let value = o[key], !value.isNull else { return nil }
        guard let s = value.stringValue else { throw Failure(description: "wrong type at \(path).\(key): expected a string, got \(value.typeName)") }
        return s
    }

    private static func reason(_ error: Error) -> String {
        let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
        return text
    }
}
