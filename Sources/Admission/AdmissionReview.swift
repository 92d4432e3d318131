import Foundation
import SealgateCore

/// `admission.k8s.io/v1` and `v1beta1` AdmissionReview: the two versions share one shape.
public struct AdmissionReview: Codable, Sendable {
    public static let supportedVersions: Set<String> = ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"]

    public var apiVersion: String
    public var kind: String
    public var request: AdmissionRequest?
    public var response: AdmissionResponse?

    public init(apiVersion: String, kind: String = "AdmissionReview", request: AdmissionRequest? = nil, response: AdmissionResponse? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.request = request
        self.response = response
    }
}

public struct GroupVersionKind: Codable, Equatable, Sendable {
    public var group: String
    public var version: String
    public var kind: String

    public init(group: String, version: String, kind: String) {
        self.group = group
        self.version = version
        self.kind = kind
    }
}

public struct GroupVersionResource: Codable, Equatable, Sendable {
    public var group: String
    public var version: String
    public var resource: String

    public init(group: String, version: String, resource: String) {
        self.group = group
        self.version = version
        self.resource = resource
    }
}

public struct AdmissionRequest: Codable, Sendable {
    public var uid: String
    public var kind: GroupVersionKind
    public var resource: GroupVersionResource
    public var subResource: String?
    public var name: String?
    public var namespace: String?
    /// CREATE, UPDATE, DELETE or CONNECT.
    public var operation: String
    public var userInfo: JSONValue?
    public var object: JSONValue?
    public var oldObject: JSONValue?
    public var dryRun: Bool?
    public var options: JSONValue?

    public init(uid: String, kind: GroupVersionKind, resource: GroupVersionResource, subResource: String? = nil, name: String? = nil,
                namespace: String? = nil, operation: String, userInfo: JSONValue? = nil, object: JSONValue? = nil,
                oldObject: JSONValue? = nil, dryRun: Bool? = nil, options: JSONValue? = nil) {
        self.uid = uid
        self.kind = kind
        self.resource = resource
        self.subResource = subResource
        self.name = name
        self.namespace = namespace
        self.operation = operation
        self.userInfo = userInfo
        self.object = object
        self.oldObject = oldObject
        self.dryRun = dryRun
        self.options = options
    }
}

public struct AdmissionStatus: Codable, Equatable, Sendable {
    public var code: Int?
    public var message: String?
    public var reason: String?
    public var status: String?

    public init(code: Int? = nil, message: String? = nil, reason: String? = nil, status: String? = nil) {
        self.code = code
        self.message = message
        self.reason = reason
        self.status = status
    }
}

public struct AdmissionResponse: Codable, Sendable {
    public var uid: String
    public var allowed: Bool
    public var status: AdmissionStatus?
    /// Base64 of an RFC 6902 JSON patch (Codable encodes `Data` as base64).
    public var patch: Data?
    public var patchType: String?
    public var warnings: [String]?
    public var auditAnnotations: [String: String]?

    public init(uid: String, allowed: Bool, status: AdmissionStatus? = nil, patch: Data? = nil, patchType: String? = nil,
                warnings: [String]? = nil, auditAnnotations: [String: String]? = nil) {
        self.uid = uid
        self.allowed = allowed
        self.status = status
        self.patch = patch
        self.patchType = patchType
        self.warnings = warnings
        self.auditAnnotations = auditAnnotations
    }
}
