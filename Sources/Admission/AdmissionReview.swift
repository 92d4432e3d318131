import Foundation
import ImagePolicy
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
    /// The requesting user as sent (kept as bytes until something needs the tree) and as a policy context reads it.
    public var userInfo: JSONValue? {
        get { lazyUserInfo?.value }
        set { lazyUserInfo = newValue.map(LazyJSON.init); user = RequestUser(json: newValue) }
    }
    var lazyUserInfo: LazyJSON?
    public internal(set) var user: RequestUser?
    public var dryRun: Bool?
    /// The operation's options (`CreateOptions`…): no decision reads them, so they stay bytes unless re-encoded.
    public var options: JSONValue? {
        get { lazyOptions?.value }
        set { lazyOptions = newValue.map(LazyJSON.init) }
    }
    public var lazyOptions: LazyJSON?
    /// The admitted object as read from the wire: its bytes until something needs the whole tree.
    public var lazyObject: LazyJSON? { didSet { objectSummary = nil } }
    public var lazyOldObject: LazyJSON?
    /// What decoding read of `lazyObject` for `kind` in the pass that checked its bytes (`WorkloadImages.summary(of:)`).
    var objectSummary: (kind: String, summary: WorkloadImages.Summary)?

    public var object: JSONValue? {
        get { lazyObject?.value }
        set { lazyObject = newValue.map(LazyJSON.init) }
    }

    public var oldObject: JSONValue? {
        get { lazyOldObject?.value }
        set { lazyOldObject = newValue.map(LazyJSON.init) }
    }

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

    private enum CodingKeys: String, CodingKey {
        case uid, kind, resource, subResource, name, namespace, operation, userInfo, object, oldObject, dryRun, options
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(uid: try c.decode(String.self, forKey: .uid), kind: try c.decode(GroupVersionKind.self, forKey: .kind),
                  resource: try c.decode(GroupVersionResource.self, forKey: .resource),
                  subResource: try c.decodeIfPresent(String.self, forKey: .subResource), name: try c.decodeIfPresent(String.self, forKey: .name),
                  namespace: try c.decodeIfPresent(String.self, forKey: .namespace), operation: try c.decode(String.self, forKey: .operation),
                  userInfo: try c.decodeIfPresent(JSONValue.self, forKey: .userInfo), object: try c.decodeIfPresent(JSONValue.self, forKey: .object),
                  oldObject: try c.decodeIfPresent(JSONValue.self, forKey: .oldObject), dryRun: try c.decodeIfPresent(Bool.self, forKey: .dryRun),
                  options: try c.decodeIfPresent(JSONValue.self, forKey: .options))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(uid, forKey: .uid)
        try c.encode(kind, forKey: .kind)
        try c.encode(resource, forKey: .resource)
        try c.encodeIfPresent(subResource, forKey: .subResource)
        try c.encodeIfPresent(name, forKey: .name)
        try c.encodeIfPresent(namespace, forKey: .namespace)
        try c.encode(operation, forKey: .operation)
        try c.encodeIfPresent(userInfo, forKey: .userInfo)
        try c.encodeIfPresent(object, forKey: .object)
        try c.encodeIfPresent(oldObject, forKey: .oldObject)
        try c.encodeIfPresent(dryRun, forKey: .dryRun)
        try c.encodeIfPresent(options, forKey: .options)
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
