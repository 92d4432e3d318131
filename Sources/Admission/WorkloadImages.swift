import ImagePolicy

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

    /// Every container image in `object` of `kind`, in spec order (init, regular, ephemeral).
    public static func images(in object: JSONValue?, kind: String) -> [ContainerImage] {
        guard let object, let path = podSpecPath(kind: kind) else { return [] }
        var spec: JSONValue? = object
        for key in path { spec = spec?[key] }
        var found: [ContainerImage] = []
        for list in ["initContainers", "containers", "ephemeralContainers"] {
            for (i, container) in (spec?[list]?.arrayValue ?? []).enumerated() {
                guard let image = container["image"]?.stringValue else { continue }
                let pointer = "/" + (path + [list, String(i), "image"]).joined(separator: "/")
                found.append(ContainerImage(image: image, pointer: pointer, list: list, name: container["name"]?.stringValue ?? ""))
            }
        }
        return found
    }

    /// The images an admission must check: all of them on CREATE; on UPDATE only those not already
    /// present in the old object (as policy-controller does, so unrelated edits of running workloads pass).
    /// `policies`' Kyverno `imageExtractors` for the kind add the images they find (custom resources too).
    public static func imagesToCheck(_ request: AdmissionRequest, policies: PolicySet = PolicySet()) -> [ContainerImage] {
        let kind = request.kind.kind
        let custom = extractors(in: policies, kind: kind)
        switch request.operation {
        case "CREATE":
            return images(in: request.object, kind: kind, extractors: custom)
        case "UPDATE":
            let old = Set(images(in: request.oldObject, kind: kind, extractors: custom).map(\.image))
            return images(in: request.object, kind: kind, extractors: custom).filter { !old.contains($0.image) }
        default:
            return []
        }
    }

    /// Standard images, then those of each extractor list (an image field already found is not repeated). A list
    /// that fails (Kyverno: rule error) adds nothing here; the rule reports the error when it evaluates.
    static func images(in object: JSONValue?, kind: String, extractors: [[KyvernoImageExtractor]]) -> [ContainerImage] {
        var found = images(in: object, kind: kind)
        guard let object, !extractors.isEmpty else { return found }
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
