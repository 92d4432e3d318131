/// The requesting user as the API server reports it (AdmissionReview `request.userInfo`, a `kyverno test` UserInfo file).
public struct RequestUser: Sendable, Hashable {
    public var username: String
    public var uid: String
    public var groups: [String]
    /// Roles (`namespace:name`) and ClusterRoles bound to the user, when known (`kyverno test` UserInfo files);
    /// `request.roles` / `request.clusterRoles` in conditions.
    public var roles: [String]?
    public var clusterRoles: [String]?

    public init(username: String, uid: String = "", groups: [String] = []) {
        self.username = username
        self.uid = uid
        self.groups = groups
    }

    /// From `{username, uid, groups}`; nil when there is nothing in it.
    public init?(json: JSONValue?) {
        guard let o = json?.objectValue else { return nil }
        let username = o["username"]?.stringValue ?? ""
        let groups = (o["groups"]?.arrayValue ?? []).compactMap(\.stringValue)
        if username.isEmpty && groups.isEmpty { return nil }
        self.init(username: username, uid: o["uid"]?.stringValue ?? "", groups: groups)
    }

    /// `request.userInfo` in Kyverno's JMESPath context.
    public var json: JSONValue {
        var o: [String: JSONValue] = ["username": .string(username), "groups": .array(groups.map { .string($0) })]
        if !uid.isEmpty { o["uid"] = .string(uid) }
        return .object(o)
    }
}
