import Foundation

/// Username/password (or token) for one registry.
public struct Credential: Sendable, Equatable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// The `Authorization` header value for HTTP Basic authentication.
    package var basicAuthorization: String {
        "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }
}

/// Registry credentials from Docker `config.json` and Kubernetes pull Secrets, looked up by host; with
/// `credHelpers`/`credsStore`, through Docker credential helpers (CredentialHelper.swift).
public struct CredentialStore: Sendable {
    private var byRegistry: [String: Credential] = [:]
    /// `credHelpers`: helper name by normalized registry host.
    private var helperByRegistry: [String: String] = [:]
    /// `credsStore`: the helper for every registry without its own.
    private var defaultHelper: String?
    private var helpers: CredentialHelpers?

    public init() {}

    public struct FormatError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Docker's `config.json` (`{"auths": {...}}`), which is also `.dockerconfigjson` Secret data. `credHelpers` and
    /// `credsStore` are read only with `helpers` (the CLI's and server's own file, never a Secret's data).
    public mutating func addDockerConfig(_ data: Data, source: String, helpers: CredentialHelpers? = nil) throws {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw FormatError(description: "\(source): not a JSON object")
        }
        if let helpers {
            try addHelpers(object, source: source)
            if defaultHelper != nil || !helperByRegistry.isEmpty { self.helpers = helpers }
        }
        guard let auths = object["auths"] as? [String: Any] else {
            if object["auths"] != nil { throw FormatError(description: "\(source): \"auths\" is not an object") }
            return
        }
        try addAuths(auths, source: source)
    }

    /// A Kubernetes Secret's data: `kubernetes.io/dockerconfigjson` or the legacy `kubernetes.io/dockercfg`.
    public mutating func addPullSecret(type: String, data: Data, source: String) throws {
        switch type {
        case "kubernetes.io/dockerconfigjson": try addDockerConfig(data, source: source)
        case "kubernetes.io/dockercfg":
            guard let auths = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw FormatError(description: "\(source): .dockercfg is not a JSON object")
            }
            try addAuths(auths, source: source)
        default:
            throw FormatError(description: "\(source): secret type \"\(type)\" is not a pull secret")
        }
    }

    /// Loads `$DOCKER_CONFIG/config.json` or `~/.docker/config.json` when present.
    public static func fromDockerConfigFile(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> CredentialStore {
        var store = CredentialStore()
        let dir = environment["DOCKER_CONFIG"] ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.docker")
        let path = dir + "/config.json"
        if let data = FileManager.default.contents(atPath: path) {
            try store.addDockerConfig(data, source: path, helpers: CredentialHelpers(path: environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"))
        }
        return store
    }

    /// What Docker would use for `registry`: its `credHelpers` helper, else the `credsStore` helper (falling back to
    /// `auths` when that has nothing), else `auths`. Throws when a helper fails (the error names it).
    public func lookup(for registry: String) throws -> Credential? {
        let host = Self.normalize(registry)
        if let helpers {
            if let name = helperByRegistry[host] { return try helpers.get(helper: name, registry: host) }
            if let name = defaultHelper, let found = try helpers.get(helper: name, registry: host) { return found }
        }
        return byRegistry[host]
    }

    /// Adds `other`'s entries for registries this store has none for (earlier pull secrets win, as with the kubelet).
    public mutating func merge(_ other: CredentialStore) {
        byRegistry.merge(other.byRegistry) { mine, _ in mine }
    }

    /// A hash of every entry, naming these credentials in cache keys ("" when there are none).
    public var fingerprint: String {
        guard !byRegistry.isEmpty else { return "" }
        let joined = byRegistry.keys.sorted().map { "\($0)=\(byRegistry[$0]!.fingerprint)" }.joined(separator: ",")
        return Credential(username: "store", password: joined).fingerprint
    }

    public mutating func set(_ credential: Credential, for registry: String) {
        byRegistry[Self.normalize(registry)] = credential
    }

    public func credential(for registry: String) -> Credential? {
        byRegistry[Self.normalize(registry)]
    }

    public var isEmpty: Bool { byRegistry.isEmpty && helperByRegistry.isEmpty && defaultHelper == nil }

    private mutating func addHelpers(_ object: [String: Any], source: String) throws {
        if let store = object["credsStore"] {
            guard let name = store as? String else { throw FormatError(description: "\(source): \"credsStore\" is not a string") }
            if !name.isEmpty { defaultHelper = name }
        }
        guard let map = object["credHelpers"] else { return }
        guard let entries = map as? [String: Any] else { throw FormatError(description: "\(source): \"credHelpers\" is not an object") }
        for (registry, value) in entries {
            guard let name = value as? String, !name.isEmpty else {
                throw FormatError(description: "\(source): credHelpers[\"\(registry)\"] is not a helper name")
            }
            helperByRegistry[Self.normalize(registry)] = name
        }
    }

    private mutating func addAuths(_ auths: [String: Any], source: String) throws {
        for (key, value) in auths {
            guard let entry = value as? [String: Any] else { throw FormatError(description: "\(source): auths[\"\(key)\"] is not an object") }
            if let auth = entry["auth"] as? String, !auth.isEmpty {
                guard let decoded = Data(base64Encoded: auth).flatMap({ String(data: $0, encoding: .utf8) }),
                      let colon = decoded.firstIndex(of: ":") else {
                    throw FormatError(description: "\(source): auths[\"\(key)\"].auth is not base64 of user:password")
                }
                set(Credential(username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...])), for: key)
            } else if let user = entry["username"] as? String, let password = entry["password"] as? String {
                set(Credential(username: user, password: password), for: key)
            } else if let token = entry["identitytoken"] as? String {
                set(Credential(username: "<token>", password: token), for: key)
            }
        }
    }

    /// `https://index.docker.io/v1/`, `docker.io` and `registry-1.docker.io` all mean Docker Hub.
    static func normalize(_ key: String) -> String {
        var host = key
        for prefix in ["https://", "http://"] where host.hasPrefix(prefix) { host.removeFirst(prefix.count) }
        if let slash = host.firstIndex(of: "/") { host = String(host[..<slash]) }
        host = host.lowercased()
        if ["docker.io", "registry-1.docker.io", "index.docker.io"].contains(host) { return "index.docker.io" }
        return host
    }
}
