import Foundation
import ImagePolicy
import SealgateCore

/// Reads an AdmissionReview from the request body with `JSONScanner`: the envelope and the request's own fields are
/// read, `object`, `oldObject` and `options` are checked and kept as bytes (`LazyJSON`), parsed only if a policy
/// needs the whole object. (Foundation's JSON readers built the whole 5 KiB tree first: 95 of the warm path's 141 µs.)
/// Errors name the field: `missing field request.uid`.
public enum AdmissionReviewDecoding {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Kubernetes objects nest deeper than TUF metadata; this bound only keeps hostile input from exhausting the stack.
    static let maxDepth = 512

    public static func decode(_ body: [UInt8]) throws(Failure) -> AdmissionReview {
        do {
            var s = try JSONScanner(body, maxDepth: maxDepth)
            let review = try envelope(&s)
            try s.finish()
            return review
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "\(error)")
        }
    }

    /// The `request` member of an AdmissionReview already parsed into a tree (`sealgate explain` input files).
    static func request(_ value: JSONValue) throws(Failure) -> AdmissionRequest {
        let bytes = Array(value.jsonString.utf8)
        do {
            var s = try JSONScanner(bytes, maxDepth: maxDepth)
            return try request(&s)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "\(error)")
        }
    }

    private static func envelope(_ s: inout JSONScanner) throws -> AdmissionReview {
        try expect(.object, &s, at: "")
        var apiVersion: String?, kind: String?
        var request: AdmissionRequest?
        try s.readMembers { s, key in
            switch key {
            case "apiVersion": apiVersion = try string(&s, at: { "apiVersion" })
            case "kind": kind = try string(&s, at: { "kind" })
            case "request": request = try s.nullable { try Self.request(&$0) }
            default: try s.skipValue()
            }
        }
        var review = AdmissionReview(apiVersion: try required(apiVersion, "apiVersion"), kind: try required(kind, "kind"))
        review.request = request
        return review
    }

    private static func request(_ s: inout JSONScanner) throws -> AdmissionRequest {
        try expect(.object, &s, at: "request")
        var uid, operation: String?
        var subResource, name, namespace: String?
        var kind: GroupVersionKind?
        var resource: GroupVersionResource?
        var dryRun: Bool?
        var options: LazyJSON?
        var userInfo: LazyJSON?
        var user: RequestUser?
        var object, oldObject: LazyJSON?
        var objectSummary: (kind: String, summary: WorkloadImages.Summary)?
        try s.readMembers { s, key in
            // Named only in an error message, so built only for one.
            let at = { "request.\(key)" }
            switch key {
            case "uid": uid = try string(&s, at: at)
            case "operation": operation = try string(&s, at: at)
            case "subResource": subResource = try optionalString(&s, at: at)
            case "name": name = try optionalString(&s, at: at)
            case "namespace": namespace = try optionalString(&s, at: at)
            case "kind":
                let f = try strings(&s, at: at, ["group", "version", "kind"])
                kind = GroupVersionKind(group: f[0], version: f[1], kind: f[2])
            case "resource":
                let f = try strings(&s, at: at, ["group", "version", "resource"])
                resource = GroupVersionResource(group: f[0], version: f[1], resource: f[2])
            case "dryRun":
                if try !s.consumeNull() {
                    guard try s.peek() == .bool else { throw try wrongType(&s, at: at(), expected: "a boolean") }
                    dryRun = try s.readBool()
                }
            case "userInfo":
                user = nil
                userInfo = nil
                if try !s.consumeNull() {
                    let start = s.offset
                    user = try Self.user(&s)
                    userInfo = LazyJSON(checked: s.bytes, range: start..<s.offset)
                }
            case "options": options = try lazy(&s)
            case "object":
                objectSummary = nil
                if try s.consumeNull() {
                    object = nil
                } else if let kind {
                    // The kind usually comes first (the API server writes it so): then the object's bytes are read
                    // once, for its summary and their checks together.
                    let start = s.offset
                    let summary = try WorkloadImages.readSummary(&s, kind: kind.kind)
                    object = LazyJSON(checked: s.bytes, range: start..<s.offset)
                    objectSummary = (kind.kind, summary)
                } else {
                    object = LazyJSON(checked: s.bytes, range: try s.skipValue())
                }
            case "oldObject": oldObject = try lazy(&s)
            default: try s.skipValue()
            }
        }
        var request = AdmissionRequest(
            uid: try required(uid, "request.uid"),
            kind: try required(kind, "request.kind"), resource: try required(resource, "request.resource"),
            subResource: subResource, name: name, namespace: namespace, operation: try required(operation, "request.operation"),
            dryRun: dryRun)
        request.lazyOptions = options
        request.lazyUserInfo = userInfo
        request.user = user
        request.lazyObject = object
        request.lazyOldObject = oldObject
        if let objectSummary, objectSummary.kind == request.kind.kind { request.objectSummary = objectSummary }
        return request
    }

    /// `userInfo`'s username, uid and string groups, as `RequestUser(json:)` reads the tree; steps over all of it.
    private static func user(_ s: inout JSONScanner) throws -> RequestUser? {
        guard try s.peek() == .object else { try s.skipValue(); return nil }
        var username = "", uid = "", groups: [String] = []
        try s.readMembers { s, key in
            switch key {
            case "username": username = try s.stringOrSkip() ?? ""
            case "uid": uid = try s.stringOrSkip() ?? ""
            case "groups":
                groups = []
                guard try s.peek() == .array else { try s.skipValue(); return }
                try s.readArray { s in if let group = try s.stringOrSkip() { groups.append(group) } }
            default: try s.skipValue()
            }
        }
        if username.isEmpty && groups.isEmpty { return nil }
        return RequestUser(username: username, uid: uid, groups: groups)
    }

    private static func lazy(_ s: inout JSONScanner) throws -> LazyJSON? {
        if try s.consumeNull() { return nil }
        let range = try s.skipValue()
        return LazyJSON(checked: s.bytes, range: range)
    }

    /// An object of string members (`request.kind`, `request.resource`), all required, in `names` order.
    private static func strings(_ s: inout JSONScanner, at path: () -> String, _ names: [String]) throws -> [String] {
        guard try !s.consumeNull() else { throw Failure(description: "wrong type at \(path()): expected a value, got null") }
        try expect(.object, &s, at: path())
        var found = [String?](repeating: nil, count: names.count)
        try s.readMembers { s, key in
            if let i = names.firstIndex(where: { key == $0 }) { found[i] = try string(&s, at: { "\(path()).\(key)" }) } else { try s.skipValue() }
        }
        return try zip(names, found).map { name, value throws(Failure) in
            guard let value else { throw Failure(description: "missing field \(path()).\(name)") }
            return value
        }
    }

    private static func required<T>(_ value: T?, _ field: String) throws(Failure) -> T {
        guard let value else { throw Failure(description: "missing field \(field)") }
        return value
    }

    private static func string(_ s: inout JSONScanner, at path: () -> String) throws -> String {
        guard let value = try optionalString(&s, at: path) else { throw Failure(description: "wrong type at \(path()): expected a value, got null") }
        return value
    }

    private static func optionalString(_ s: inout JSONScanner, at path: () -> String) throws -> String? {
        if try s.consumeNull() { return nil }
        guard try s.peek() == .string else { throw try wrongType(&s, at: path(), expected: "a string") }
        return try s.readString()
    }

    private static func expect(_ token: JSONScanner.Token, _ s: inout JSONScanner, at path: String) throws {
        guard try s.peek() == token else {
            if path.isEmpty { throw Failure(description: "expected a JSON object, got \(try typeName(&s))") }
            throw try wrongType(&s, at: path, expected: "an object")
        }
    }

    private static func wrongType(_ s: inout JSONScanner, at path: String, expected: String) throws -> Failure {
        Failure(description: "wrong type at \(path): expected \(expected), got \(try typeName(&s))")
    }

    private static func typeName(_ s: inout JSONScanner) throws -> String {
        switch try s.peek() {
        case .object: "object"
        case .array: "array"
        case .string: "string"
        case .number: "number"
        case .bool: "boolean"
        case .null: "null"
        }
    }
}
