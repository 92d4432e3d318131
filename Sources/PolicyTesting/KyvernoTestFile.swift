import Foundation
import ImagePolicy

/// A rule result as Kyverno and PolicyReports spell it.
public enum RuleResult: String, Sendable, Codable, CaseIterable, Comparable {
    case skip, pass, warn, error, fail

    /// Aggregation over a resource's images: fail beats error beats warn beats pass beats skip.
    var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (a: RuleResult, b: RuleResult) -> Bool { a.rank < b.rank }
}

/// A `kyverno-test.yaml`: the `cli.kyverno.io/v1alpha1 Test` form or the older `name/policies/resources/results` form.
public struct KyvernoTest: Sendable {
    public struct Expected: Sendable {
        public var policy: String
        public var rule: String
        /// Resource references as written: `name` or `namespace/name`.
        public var resources: [String]
        public var kind: String
        public var result: RuleResult
        /// Expected mutated resource file (resolved path), when given.
        public var patchedResources: String?
        public var namespace: String?
        /// `file results[i]`, for messages.
        public var location: String
    }

    public var file: String
    public var name: String
    /// Policy and resource files, resolved against the test file's directory.
    public var policies: [String]
    public var resources: [String]
    public var results: [Expected]
    /// Fields sealgate reads but does not apply (checks, context): reported as warnings.
    public var ignored: [String]
    /// `values:` inline, else the `variables:` Values file (namespace labels, variables).
    public var values: KyvernoValues?
    /// The `userinfo:` file's user.
    public var user: RequestUser?

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// Test files below (or at) `path`: `kyverno-test.yaml` / `kyverno-test.yml`, sorted.
    public static func find(in path: String) -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return [] }
        guard isDir.boolValue else { return [path] }
        guard let e = FileManager.default.enumerator(atPath: path) else { return [] }
        var files: [String] = []
        while let rel = e.nextObject() as? String {
            let base = (rel as NSString).lastPathComponent
            if base == "kyverno-test.yaml" || base == "kyverno-test.yml" { files.append((path as NSString).appendingPathComponent(rel)) }
        }
        return files.sorted()
    }

    /// Parses one test file; every error names the file and the field.
    public static func load(file: String) throws -> KyvernoTest {
        guard let data = FileManager.default.contents(atPath: file) else { throw Failure("\(file): cannot read") }
        return try parse(String(decoding: data, as: UTF8.self), file: file)
    }

    public static func parse(_ text: String, file: String) throws -> KyvernoTest {
        let documents: [JSONValue?]
        do { documents = try YAMLDocuments.parse(text) } catch { throw Failure("\(file): \(error)") }
        let docs = documents.compactMap { $0 }.filter { !$0.isNull }
        guard docs.count == 1, let root = docs.first?.objectValue else {
            throw Failure("\(file): expected one YAML document holding a Kyverno test, found \(docs.count)")
        }
        let apiVersion = root["apiVersion"]?.stringValue
        if let apiVersion {
            guard apiVersion == "cli.kyverno.io/v1alpha1", root["kind"]?.stringValue == "Test" else {
                throw Failure("\(file): apiVersion/kind: want cli.kyverno.io/v1alpha1 Test, got \(apiVersion) \(root["kind"]?.stringValue ?? "(no kind)")")
            }
        }
        let name = apiVersion != nil ? root["metadata"]?["name"]?.stringValue : root["name"]?.stringValue
        let dir = (file as NSString).deletingLastPathComponent
        func paths(_ field: String) throws -> [String] {
            guard let value = root[field] else { throw Failure("\(file): \(field): missing") }
            guard let list = value.arrayValue else { throw Failure("\(file): \(field): expected a list of file names, got \(value.typeName)") }
            return try list.enumerated().map { i, item in
                guard let s = item.stringValue, !s.isEmpty else { throw Failure("\(file): \(field)[\(i)]: expected a file name") }
                return resolve(s, in: dir)
            }
        }
        var test = KyvernoTest(file: file, name: name ?? (file as NSString).lastPathComponent, policies: try paths("policies"),
                               resources: try paths("resources"), results: [], ignored: [], values: nil, user: nil)
        test.ignored = ["checks", "context"].filter { root[$0] != nil }
        func path(_ field: String) throws -> String? {
            guard let v = root[field], !v.isNull else { return nil }
            guard let s = v.stringValue, !s.isEmpty else { throw Failure("\(file): \(field): expected a file name, got \(v.typeName)") }
            return resolve(s, in: dir)
        }
        // As kyverno's variables.New: inline values win over the file.
        if let inline = root["values"], !inline.isNull {
            test.values = try KyvernoValues.parse(inline, at: "\(file): values")
        } else if let values = try path("variables") {
            test.values = try KyvernoValues.load(file: values)
        }
        if let userinfo = try path("userinfo") { test.user = try KyvernoUserInfo.load(file: userinfo) }
        guard let results = root["results"]?.arrayValue else { throw Failure("\(file): results: missing or not a list") }
        for (i, item) in results.enumerated() {
            test.results.append(try expected(item, at: "\(file) results[\(i)]", dir: dir))
        }
        return test
    }

    static func expected(_ item: JSONValue, at location: String, dir: String) throws -> Expected {
        guard item.objectValue != nil else { throw Failure("\(location): expected an object, got \(item.typeName)") }
        func string(_ key: String) throws -> String? {
            guard let v = item[key], !v.isNull else { return nil }
            guard let s = v.stringValue else { throw Failure("\(location).\(key): expected a string, got \(v.typeName)") }
            return s
        }
        guard let policy = try string("policy"), !policy.isEmpty else { throw Failure("\(location).policy: missing") }
        // `result` (v1alpha1) or `status` (older form).
        guard let resultText = try string("result") ?? string("status") else { throw Failure("\(location).result: missing") }
        guard let result = RuleResult(rawValue: resultText.lowercased()) else {
            throw Failure("\(location).result: \"\(resultText)\" is not one of pass, fail, skip, warn, error")
        }
        var resources: [String] = []
        if let list = item["resources"], !list.isNull {
            guard let items = list.arrayValue else { throw Failure("\(location).resources: expected a list of names") }
            resources = try items.enumerated().map { i, r in
                guard let s = r.stringValue else { throw Failure("\(location).resources[\(i)]: expected a name") }
                return s
            }
        }
        if let single = try string("resource") { resources.append(single) }
        guard !resources.isEmpty else { throw Failure("\(location).resources: missing (name the resources this result is for)") }
        let patched = try string("patchedResources") ?? string("patchedResource")
        return Expected(policy: policy, rule: try string("rule") ?? "", resources: resources, kind: try string("kind") ?? "",
                        result: result, patchedResources: patched.map { resolve($0, in: dir) }, namespace: try string("namespace"),
                        location: location)
    }

    static func resolve(_ path: String, in dir: String) -> String {
        path.hasPrefix("/") || dir.isEmpty ? path : (dir as NSString).appendingPathComponent(path)
    }
}
