import Foundation

/// Everything loaded from a set of files.
public struct PolicySet: Sendable {
    public var clusterImagePolicies: [ClusterImagePolicy] = []
    public var kyvernoPolicies: [KyvernoPolicy] = []
    /// TrustRoot objects that authorities name with `trustRootRef` (not policies: they admit nothing themselves).
    public var trustRoots: [TrustRoot] = []
    /// Kyverno ImageValidatingPolicy / NamespacedImageValidatingPolicy (CEL), decided per request.
    public var imageValidatingPolicies: [ImageValidatingPolicy] = []
    /// Connaisseur configurations (`application.validators` and `application.policy`).
    public var connaisseurConfigs: [ConnaisseurConfig] = []
    public init(clusterImagePolicies: [ClusterImagePolicy] = [], kyvernoPolicies: [KyvernoPolicy] = [], trustRoots: [TrustRoot] = []) {
        self.clusterImagePolicies = clusterImagePolicies
        self.kyvernoPolicies = kyvernoPolicies
        self.trustRoots = trustRoots
    }
    /// Policies that decide (TrustRoots do not).
    public var policyCount: Int { clusterImagePolicies.count + kyvernoPolicies.count + imageValidatingPolicies.count + connaisseurConfigs.count }
    public var isEmpty: Bool { clusterImagePolicies.isEmpty && kyvernoPolicies.isEmpty && imageValidatingPolicies.isEmpty && connaisseurConfigs.isEmpty }
    public mutating func merge(_ other: PolicySet) {
        clusterImagePolicies += other.clusterImagePolicies
        kyvernoPolicies += other.kyvernoPolicies
        trustRoots += other.trustRoots
        imageValidatingPolicies += other.imageValidatingPolicies
        connaisseurConfigs += other.connaisseurConfigs
    }
}

/// Result of loading: the valid policies plus every issue (errors and warnings).
/// A document with any error contributes no policy.
public struct PolicyLoadResult: Sendable {
    public var policies = PolicySet()
    public var issues: [PolicyIssue] = []
    public var errors: [PolicyIssue] { issues.filter { $0.severity == .error } }
    public var warnings: [PolicyIssue] { issues.filter { $0.severity == .warning } }
    public var hasErrors: Bool { issues.contains { $0.severity == .error } }

    /// The policies, or a `PolicyLoadError` listing every issue if any document had an error.
    public func get() throws(PolicyLoadError) -> PolicySet {
        if hasErrors { throw PolicyLoadError(issues: issues) }
        return policies
    }
}

/// Loads ClusterImagePolicy, TrustRoot and Kyverno policy documents from YAML/JSON files and directories.
public enum PolicyLoader {
    static let extensions: Set<String> = ["yaml", "yml", "json"]

    /// Loads files and directories (recursively, `.yaml`/`.yml`/`.json`, sorted by path).
    public static func load(paths: [String]) -> PolicyLoadResult {
        var result = PolicyLoadResult()
        for path in paths {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
                result.issues.append(PolicyIssue(file: path, path: "", message: "no such file or directory"))
                continue
            }
            let files = isDir.boolValue ? policyFiles(in: path) : [path]
            if isDir.boolValue && files.isEmpty {
                result.issues.append(PolicyIssue(file: path, path: "", message: "directory has no .yaml, .yml or .json files"))
            }
            for file in files {
                guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                    result.issues.append(PolicyIssue(file: file, path: "", message: "cannot read file as UTF-8 text"))
                    continue
                }
                let r = load(text: text, file: file)
                result.policies.merge(r.policies)
                result.issues += r.issues
            }
        }
        result.issues += duplicateTrustRoots(result.policies.trustRoots)
        return result
    }

    /// Two TrustRoots of one name would make `trustRootRef` ambiguous (the cluster cannot have that).
    static func duplicateTrustRoots(_ roots: [TrustRoot]) -> [PolicyIssue] {
        var first: [String: TrustRoot] = [:]
        var issues: [PolicyIssue] = []
        for root in roots {
            if let earlier = first[root.name] {
                issues.append(PolicyIssue(file: root.source.file, documentIndex: root.source.documentIndex, path: "metadata.name",
                                          message: "TrustRoot \"\(root.name)\" is already defined in \(earlier.source)"))
            } else {
                first[root.name] = root
            }
        }
        return issues
    }

    /// Policy files below `dir`, sorted. Entries under `..`-prefixed names are skipped: a mounted
    /// ConfigMap keeps its real files in `..data/`, and the visible names are symlinks to them.
    public static func policyFiles(in dir: String) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: dir) else { return [] }
        var files: [String] = []
        while let rel = e.nextObject() as? String {
            if rel.split(separator: "/").contains(where: { $0.hasPrefix("..") }) { continue }
            let full = (dir as NSString).appendingPathComponent(rel)
            if extensions.contains((rel as NSString).pathExtension.lowercased()) { files.append(full) }
        }
        return files.sorted()
    }

    /// Loads every document of one YAML/JSON text.
    public static func load(text: String, file: String? = nil) -> PolicyLoadResult {
        var result = PolicyLoadResult()
        let docs: [JSONValue?]
        do { docs = try YAMLDocuments.parse(text) } catch {
            result.issues.append(PolicyIssue(file: file, path: "", message: error.description))
            return result
        }
        for (index, doc) in docs.enumerated() {
            guard let doc, !doc.isNull else { continue }
            let diags = Diagnostics(file: file, documentIndex: index)
            loadDocument(doc, source: DocumentSource(file: file, documentIndex: index), diags: diags, into: &result.policies)
            result.issues += diags.issues
        }
        return result
    }

    /// Loads one already-decoded object (e.g. from the Kubernetes API); issues name `source`
    /// (such as `clusterimagepolicy/name`) instead of a file.
    public static func load(object: JSONValue, source: String) -> PolicyLoadResult {
        var result = PolicyLoadResult()
        let diags = Diagnostics(file: source)
        loadDocument(object, source: DocumentSource(file: source, documentIndex: 0), diags: diags, into: &result.policies)
        result.issues = diags.issues
        return result
    }

    static func loadDocument(_ doc: JSONValue, source: DocumentSource, diags: Diagnostics, into set: inout PolicySet) {
        guard let root = FieldReader.make(doc, path: "", diags: diags) else { return }
        if ConnaisseurParser.recognises(doc) {
            if let c = ConnaisseurParser.parse(root, source: source) { set.connaisseurConfigs.append(c) }
            return
        }
        let apiVersion = root.string("apiVersion") ?? ""
        let kind = root.string("kind") ?? ""
        if apiVersion.isEmpty { diags.error("apiVersion", "missing field(s): apiVersion") }
        if kind.isEmpty { diags.error("kind", "missing field(s): kind") }
        guard !apiVersion.isEmpty, !kind.isEmpty else { return }

        let group = apiVersion.split(separator: "/").first.map(String.init) ?? ""
        switch (group, kind) {
        case ("policy.sigstore.dev", "ClusterImagePolicy"):
            guard ["policy.sigstore.dev/v1alpha1", "policy.sigstore.dev/v1beta1"].contains(apiVersion) else {
                diags.error("apiVersion", "unsupported apiVersion \"\(apiVersion)\" for ClusterImagePolicy (want policy.sigstore.dev/v1alpha1 or v1beta1)")
                return
            }
            let meta = Metadata.parse(root, namespaced: false)
            if let p = ClusterImagePolicyParser.parse(root, apiVersion: apiVersion, name: meta.name, source: source) {
                set.clusterImagePolicies.append(p)
            }
        case ("policy.sigstore.dev", "TrustRoot"):
            guard apiVersion == "policy.sigstore.dev/v1alpha1" else {
                diags.error("apiVersion", "unsupported apiVersion \"\(apiVersion)\" for TrustRoot (want policy.sigstore.dev/v1alpha1)")
                return
            }
            let meta = Metadata.parse(root, namespaced: false)
            if let t = TrustRootParser.parse(root, name: meta.name, source: source) { set.trustRoots.append(t) }
        case ("kyverno.io", "ClusterPolicy"), ("kyverno.io", "Policy"):
            guard ["kyverno.io/v1", "kyverno.io/v2beta1"].contains(apiVersion) else {
                diags.error("apiVersion", "unsupported apiVersion \"\(apiVersion)\" for \(kind) (want kyverno.io/v1 or kyverno.io/v2beta1)")
                return
            }
            let meta = Metadata.parse(root, namespaced: kind == "Policy")
            if let p = KyvernoPolicyParser.parse(root, apiVersion: apiVersion, kind: kind, metadata: meta, source: source) {
                set.kyvernoPolicies.append(p)
            }
        case ("policies.kyverno.io", "ImageValidatingPolicy"), ("policies.kyverno.io", "NamespacedImageValidatingPolicy"):
            guard ImageValidatingPolicyParser.versions.contains(apiVersion) else {
                diags.error("apiVersion", "unsupported apiVersion \"\(apiVersion)\" for \(kind) (want policies.kyverno.io/v1alpha1, v1beta1 or v1)")
                return
            }
            let meta = Metadata.parse(root, namespaced: kind == "NamespacedImageValidatingPolicy")
            if let p = ImageValidatingPolicyParser.parse(root, kind: kind, metadata: meta, source: source) {
                set.imageValidatingPolicies.append(p)
            }
        default:
            diags.error("kind", "unsupported kind \"\(kind)\" (apiVersion \(apiVersion)): sealgate understands ClusterImagePolicy (policy.sigstore.dev/v1alpha1, v1beta1), TrustRoot (policy.sigstore.dev/v1alpha1), ClusterPolicy/Policy (kyverno.io/v1, v2beta1) and (Namespaced)ImageValidatingPolicy (policies.kyverno.io/v1alpha1, v1beta1, v1)")
        }
    }
}

/// The parts of Kubernetes ObjectMeta policies use.
struct Metadata {
    var name: String
    var namespace: String?
    var annotations: [String: String]
    var labels: [String: String]

    static let tolerated = ["uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "finalizers",
                            "ownerReferences", "generateName", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"]

    static func parse(_ root: FieldReader, namespaced: Bool) -> Metadata {
        var meta = Metadata(name: "", namespace: nil, annotations: [:], labels: [:])
        guard let m = root.object("metadata") else {
            root.diags.error("metadata", "missing field(s): metadata.name")
            return meta
        }
        meta.name = m.string("name") ?? ""
        if meta.name.isEmpty { root.diags.error(m.at("name"), "missing field(s): \(m.at("name"))") }
        meta.namespace = m.string("namespace")
        meta.annotations = m.stringMap("annotations") ?? [:]
        meta.labels = m.stringMap("labels") ?? [:]
        for t in tolerated { m.ignore(t) }
        m.finish()
        return meta
    }
}
