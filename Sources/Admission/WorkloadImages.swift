import ImagePolicy
import SealgateCore

/// Finds container images in every workload kind the API server sends.
public enum WorkloadImages {
    /// Where the pod spec sits inside each kind (as JSON pointer segments).
    static func podSpecPath(kind: String) -> [String]? {
        switch kind {
        case "Pod": ["spec"]
        case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController": ["spec", "template", "spec"]
        case "CronJob": ["spec", "jobTemplate", "spec", "template", "spec"]
        case "PodTemplate": ["template", "spec"]
        default: nil
        }
    }

    public static func isWorkload(kind: String) -> Bool { podSpecPath(kind: kind) != nil }

    static let containerLists = ["initContainers", "containers", "ephemeralContainers"]

    /// Every container image in `object` of `kind`, in spec order (init, regular, ephemeral).
    public static func images(in object: JSONValue?, kind: String) -> [ContainerImage] {
        guard let object, let path = podSpecPath(kind: kind) else { return [] }
        var spec: JSONValue? = object
        for key in path { spec = spec?[key] }
        var found: [ContainerImage] = []
        for list in containerLists {
            for (i, container) in (spec?[list]?.arrayValue ?? []).enumerated() {
                guard let image = container["image"]?.stringValue else { continue }
                found.append(ContainerImage(image: image, pointer: pointer(path, list, i), list: list, name: container["name"]?.stringValue ?? ""))
            }
        }
        return found
    }

    /// What the warm path reads of an admitted object: its container images and the parts of `metadata` a policy
    /// context holds (string-valued labels and annotations, as `compactMapValues(\.stringValue)` keeps them).
    public struct Summary: Sendable {
        public var images: [ContainerImage] = []
        public var name: String?
        public var generateName: String?
        public var labels: [String: String] = [:]
        public var annotations: [String: String] = [:]
        public init(images: [ContainerImage] = [], name: String? = nil, generateName: String? = nil,
                    labels: [String: String] = [:], annotations: [String: String] = [:]) {
            self.images = images
            self.name = name
            self.generateName = generateName
            self.labels = labels
            self.annotations = annotations
        }
    }

    /// The same images read straight from the request's bytes, without building the object (the warm path).
    public static func images(in object: LazyJSON?, kind: String) -> [ContainerImage] {
        summary(of: object, kind: kind).images
    }

    /// The request's object summary: the one decoding read in the same pass that checked the bytes, or a new read.
    public static func summary(of request: AdmissionRequest) -> Summary {
        if let read = request.objectSummary, read.kind == request.kind.kind, request.lazyObject?.parsedValue == nil { return read.summary }
        return summary(of: request.lazyObject, kind: request.kind.kind)
    }

    /// Images and metadata in one pass over the bytes (or from the tree, once something has built it).
    public static func summary(of object: LazyJSON?, kind: String) -> Summary {
        guard let object else { return Summary() }
        if let tree = object.parsedValue { return summary(of: tree, kind: kind) }
        return object.scan(at: []) { s in try readSummary(&s, kind: kind) } ?? Summary()
    }

    public static func summary(of tree: JSONValue, kind: String) -> Summary {
        let metadata = tree["metadata"]
        func strings(_ value: JSONValue?) -> [String: String] { (value?.objectValue ?? [:]).compactMapValues(\.stringValue) }
        return Summary(images: images(in: tree, kind: kind), name: metadata?["name"]?.stringValue,
                       generateName: metadata?["generateName"]?.stringValue,
                       labels: strings(metadata?["labels"]), annotations: strings(metadata?["annotations"]))
    }

    /// Reads the summary of the object value at `s` and steps over all of it, checking every byte as `skipValue`
    /// does: admission decoding calls this in place of skipping the object, so the bytes are scanned once.
    static func readSummary(_ s: inout JSONScanner, kind: String) throws -> Summary {
        var summary = Summary()
        guard try s.peek() == .object else { try s.skipValue(); return summary }
        let path = podSpecPath(kind: kind)
        var lists: [[ContainerImage]] = []
        try s.readMembers { s, key in
            if case "metadata" = key {
                try readMetadata(&s, into: &summary)
            } else if let path, key == path[0] {
                lists = try s.read(at: path.dropFirst()) { s in try containerLists(&s, path: path) } ?? []
            } else {
                try s.skipValue()
            }
        }
        summary.images = lists.flatMap { $0 }
        return summary
    }

    /// `metadata`'s name, generateName and string labels and annotations; a repeated member keeps the last, as the tree.
    private static func readMetadata(_ s: inout JSONScanner, into summary: inout Summary) throws {
        summary.name = nil; summary.generateName = nil; summary.labels = [:]; summary.annotations = [:]
        guard try s.peek() == .object else { try s.skipValue(); return }
        try s.readMembers { s, key in
            switch key {
            case "name": summary.name = try s.stringOrSkip()
            case "generateName": summary.generateName = try s.stringOrSkip()
            case "labels": summary.labels = try stringMembers(&s)
            case "annotations": summary.annotations = try stringMembers(&s)
            default: try s.skipValue()
            }
        }
    }

    private static func stringMembers(_ s: inout JSONScanner) throws -> [String: String] {
        var out: [String: String] = [:]
        guard try s.peek() == .object else { try s.skipValue(); return out }
        try s.readObject { s, key in out[key] = try s.stringOrSkip() }
        return out
    }

    /// A pod spec's container lists, in `containerLists` order (other members skipped; a repeated list keeps the last).
    private static func containerLists(_ s: inout JSONScanner, path: [String]) throws -> [[ContainerImage]] {
        var lists = [[ContainerImage]](repeating: [], count: containerLists.count)
        guard try s.peek() == .object else { try s.skipValue(); return lists }
        try s.readMembers { s, key in
            guard let i = containerLists.firstIndex(where: { key == $0 }), try s.peek() == .array else { try s.skipValue(); return }
            lists[i] = try containers(&s, list: containerLists[i], path: path)
        }
        return lists
    }

    /// One container list: the `image` and `name` of each element that is an object with a string image.
    private static func containers(_ s: inout JSONScanner, list: String, path: [String]) throws -> [ContainerImage] {
        var found: [ContainerImage] = []
        var index = 0
        let prefix = "/" + (path + [list]).joined(separator: "/") + "/"
        try s.readArray { s in
            defer { index += 1 }
            guard try s.peek() == .object else { try s.skipValue(); return }
            var image: String?, name: String?
            try s.readMembers { s, key in
                switch key {
                case "image": image = try s.stringOrSkip()
                case "name": name = try s.stringOrSkip()
                default: try s.skipValue()
                }
            }
            if let image { found.append(ContainerImage(image: image, pointer: prefix + String(index) + "/image", list: list, name: name ?? "")) }
        }
        return found
    }

    private static func pointer(_ path: [String], _ list: String, _ index: Int) -> String {
        "/" + (path + [list, String(index), "image"]).joined(separator: "/")
    }

    /// The images an admission must check: all of them on CREATE; on UPDATE only those not already
    /// present in the old object (as policy-controller does, so unrelated edits of running workloads pass).
    /// `policies`' Kyverno `imageExtractors` for the kind add the images they find (custom resources too).
    public static func imagesToCheck(_ request: AdmissionRequest, policies: PolicySet = PolicySet(),
                                     standard: [ContainerImage]? = nil) -> [ContainerImage] {
        let kind = request.kind.kind
        let custom = extractors(in: policies, kind: kind)
        let current = { images(in: request.lazyObject, kind: kind, extractors: custom, standard: standard) }
        switch request.operation {
        case "CREATE":
            return current()
        case "UPDATE":
            let old = Set(images(in: request.lazyOldObject, kind: kind, extractors: custom).map(\.image))
            return current().filter { !old.contains($0.image) }
        default:
            return []
        }
    }

    /// Standard images, then those of each extractor list (an image field already found is not repeated). A list
    /// that fails (Kyverno: rule error) adds nothing here; the rule reports the error when it evaluates.
    static func images(in lazy: LazyJSON?, kind: String, extractors: [[KyvernoImageExtractor]],
                       standard: [ContainerImage]? = nil) -> [ContainerImage] {
        var found = standard ?? images(in: lazy, kind: kind)
        guard let object = extractors.isEmpty ? nil : lazy?.value else { return found }
        var pointers = Set(found.map(\.pointer))
        for list in extractors {
            for f in (try? KyvernoImageExtraction.images(list, in: object)) ?? [] where pointers.insert(f.pointer).inserted {
                found.append(ContainerImage(image: f.image, pointer: f.pointer, list: f.name, name: f.name))
            }
        }
        return found
    }

    /// The distinct `imageExtractors` lists Kyverno rules in `set` declare for `kind`.
    static func extractors(in set: PolicySet, kind: String) -> [[KyvernoImageExtractor]] {
        var out: [[KyvernoImageExtractor]] = []
        for rule in set.kyvernoPolicies.flatMap(\.rules) {
            if let list = rule.imageExtractors[kind], !out.contains(list) { out.append(list) }
        }
        return out
    }
}
