import Testing
import ImageReference
@testable import ImagePolicy

/// (image, glob, match?) — policy-controller glob semantics; includes upstream glob_test.go cases.
private let globCases: [(String, String, Bool)] = [
    ("foo", "index.docker.io/library/foo:latest", true),
    ("foo", "index.docker.io/library/foo:*", true),
    ("foo", "index.docker.io/library/*", true),
    ("foo", "index.docker.io/library/*:latest", true),
    ("foo", "index.docker.io/*/*", true),
    ("foo", "index.docker.io/**", true),
    ("foo", "index.docker.**", true),
    ("foo", "inde**", true),
    ("foo", "**", true),
    ("foo", "foo", true),           // fallback to the string as written
    ("foo", "foo*", true),
    ("foo", "foo**", true),
    ("foo", "*", true),             // shorthand for index.docker.io/library/*
    ("foo", "docker.io/library/foo", false),
    ("myuser/myapp", "index.docker.io/myuser/myapp:latest", true),
    ("myuser/myapp", "index.docker.io/myuser/*", true),
    ("myuser/myapp", "index.docker.io/*/*", true),
    ("myuser/myapp", "*/*", true),  // shorthand for index.docker.io/*/*
    ("myuser/myapp", "myuser/myapp", true),
    ("myuser/myapp", "index.docker.io/library/*", false),
    ("docker.io/myuser/myapp:v1", "index.docker.io/myuser/myapp:v1", true),
    ("ghcr.io/foo/bar", "ghcr.io/*/*", true),
    ("ghcr.io/foo/bar", "ghcr.io/**", true),
    ("ghcr.io/foo", "ghcr.io/*/*", false),
    ("ghcr.io/foo", "ghcr.io/**", true),
    ("ghcr.io/foo", "ghc**", true),
    ("ghcr.io/foo", "*/**", true),
    ("ghcr.io/foo", "ghcr.io/foo*", true),
    ("ghcr.io/foo/bar/baz", "ghcr.io/*", false),
    ("ghcr.io/foo/bar/baz", "ghcr.io/*/bar/*", true),
    ("prefix-ghcr.io/foo", "ghcr.io/foo", false),
    ("ghcr.io/foo-suffix", "ghcr.io/foo", false),
    ("ghcrxio/foo", "ghcr.io/**", false),
    ("images.example", "images.*", true),       // matches the written form
    ("images.example/app", "images.*", false),  // * does not cross /
    ("registry.local:5000/team/app:1.2", "registry.local:5000/team/*", true),
    ("registry.local:5000/team/app:1.2", "registry.local:5000/team/app:1.*", true),
    ("registry.local:5000/team/app:1.2", "registry.local:5000/team/app:2.*", false),
    ("ghcr.io/a/b@sha256:" + String(repeating: "1", count: 64), "ghcr.io/a/b@sha256:*", true),
    ("ghcr.io/a/b:v1@sha256:" + String(repeating: "1", count: 64), "ghcr.io/a/b:v1", false), // digest form drops the tag
]

/// (image, Kyverno imageReferences pattern, match?) — wildcard over the Kyverno-normalized string.
private let kyvernoCases: [(String, String, Bool)] = [
    ("ghcr.io/kyverno/test-verify-image:signed", "ghcr.io/kyverno/test-verify-image:*", true),
    ("ghcr.io/kyverno/test-verify-image:signed", "*", true),
    ("ghcr.io/kyverno/zulu:latest", "ghcr.io/kyverno/zulu*", true),
    ("ghcr.io/kyverno/zulu", "ghcr.io/kyverno/zulu*", true),
    ("ghcr.io/kyverno/other", "ghcr.io/kyverno/zulu*", false),
    ("nginx", "docker.io/nginx:latest", true),
    ("nginx", "docker.io/library/nginx:latest", false),   // Kyverno does not add library/
    ("library/nginx", "docker.io/library/nginx:*", true),
    ("nginx:1.25", "docker.io/nginx:1.2?", true),
    ("nginx:1.25", "docker.io/nginx:1.?", false),
    ("nginx@sha256:" + String(repeating: "a", count: 64), "docker.io/nginx@sha256:*", true),
    ("nginx:1@sha256:" + String(repeating: "a", count: 64), "docker.io/nginx:1*", false),  // digest replaces the tag
    ("ghcr.io/a/b/c:v1", "ghcr.io/a/*", true),   // * crosses / in Kyverno
    ("localhost:5000/app:dev", "localhost:5000/*", true),
    ("registry.k8s.io/pause:3.9", "*.k8s.io/*", true),
]

@Test("CIP glob matching", arguments: globCases)
func cipGlob(image: String, glob: String, expected: Bool) throws {
    let ref = try ImageRef(parsing: image)
    #expect(try ImageGlob(glob).matches(ref) == expected, "\(glob) vs \(ref.policyMatchString)")
}

@Test("Kyverno imageReferences matching", arguments: kyvernoCases)
func kyvernoReference(image: String, pattern: String, expected: Bool) throws {
    let ref = try ImageRef(parsing: image)
    #expect(Wildcard.match(pattern: pattern, ref.kyvernoMatchString) == expected, "\(pattern) vs \(ref.kyvernoMatchString)")
}

@Test func enoughMatchingCases() { #expect(globCases.count + kyvernoCases.count >= 50) }

@Test(arguments: [".+", "[a-z]*", "[", "foo bar", "a?b", ""])
func invalidGlobsAreRejected(_ glob: String) {
    #expect(throws: ImageGlob.InvalidGlob.self) { try ImageGlob(glob) }
}

@Test func wildcardBasics() {
    #expect(Wildcard.match(pattern: "a*c", "abbbc"))
    #expect(Wildcard.match(pattern: "a?c", "abc"))
    #expect(!Wildcard.match(pattern: "a?c", "abbc"))
    #expect(Wildcard.match(pattern: "*", ""))
    #expect(!Wildcard.match(pattern: "", "x"))
    #expect(Wildcard.match(pattern: "*x*y*", "axbyc"))
}

@Test func kyvernoOperators() {
    typealias O = KyvernoOperator
    #expect(O.equals.evaluate(key: "https://tekton.dev/chains/v2", value: "https://tekton.dev/*"))
    #expect(!O.equals.evaluate(key: "abc", value: "abd"))
    #expect(O.equals.evaluate(key: 1, value: "1"))
    #expect(O.equals.evaluate(key: true, value: true))
    #expect(O.equals.evaluate(key: "1h", value: "60m"))
    #expect(O.notEquals.evaluate(key: "a", value: "b"))
    #expect(O.anyIn.evaluate(key: ["a", "x"], value: ["a", "b"]))
    #expect(!O.allIn.evaluate(key: ["a", "x"], value: ["a", "b"]))
    #expect(O.allIn.evaluate(key: ["a", "b"], value: ["a*", "b"]))
    #expect(O.in.evaluate(key: "prod", value: ["prod", "staging"]))
    #expect(O.notIn.evaluate(key: "dev", value: ["prod", "staging"]))
    #expect(O.anyNotIn.evaluate(key: ["a", "x"], value: ["a", "b"]))
    #expect(!O.allNotIn.evaluate(key: ["a", "x"], value: ["a", "b"]))
    #expect(O.allNotIn.evaluate(key: ["x", "y"], value: "[\"a\", \"b\"]"))
    #expect(O.greaterThan.evaluate(key: 5, value: 3))
    #expect(O.greaterThanOrEquals.evaluate(key: "3", value: 3))
    #expect(O.lessThan.evaluate(key: "1Gi", value: "2Gi"))
    #expect(O.lessThanOrEquals.evaluate(key: "1.2.3", value: "1.10.0"))
    #expect(!O.greaterThan.evaluate(key: "abc", value: 1))
    #expect(O.durationGreaterThan.evaluate(key: "2h", value: "90m"))
    #expect(O.durationLessThanOrEquals.evaluate(key: "30s", value: 30))
    #expect(!O.durationLessThan.evaluate(key: "1h", value: "1h"))
    #expect(O.durationGreaterThanOrEquals.evaluate(key: "1h0m0s", value: "3600s"))
}

@Test func kyvernoTemplatesResolveNestedVariables() throws {
    let ctx: JSONValue = ["scanner": ["uri": "pkg:github/aquasecurity/trivy@0.34.0"], "n": 3]
    let t = try KyvernoTemplate("{{ regex_match('^pkg:github/aquasecurity/trivy@0.34.0','{{ scanner.uri }}') }}")
    #expect(try t.resolve(ctx) == true)
    #expect(try KyvernoTemplate("count={{ n }}").resolve(ctx) == "count=3")
    #expect(try KyvernoTemplate("{{ n }}").resolve(ctx) == 3)
    #expect(throws: KyvernoTemplate.Failure.self) { try KyvernoTemplate("{{ missing.field }}").resolve(ctx) }
    #expect(throws: KyvernoTemplate.Failure.self) { try KyvernoTemplate("{{ a[ }}") }
}

@Test func inOperatorsStringifyAndMatchWildcardsBothWays() {
    #expect(KyvernoOperator.anyIn.evaluate(key: [1, 2], value: ["2"]))
    #expect(KyvernoOperator.allIn.evaluate(key: "a*", value: ["abc"]))
    #expect(KyvernoOperator.anyIn.evaluate(key: true, value: "[\"true\"]"))
    #expect(!KyvernoOperator.allNotIn.evaluate(key: ["x", "ab"], value: ["a?"]))
}
