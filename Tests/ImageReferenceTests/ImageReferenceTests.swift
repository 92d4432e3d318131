import Testing
@testable import ImageReference

private let d256 = "sha256:" + String(repeating: "a", count: 64)
private let d512 = "sha512:" + String(repeating: "0", count: 128)

/// (input, expected normalized form) for references that must parse.
private let validCases: [(String, String)] = [
    ("nginx", "index.docker.io/library/nginx:latest"),
    ("nginx:1.25", "index.docker.io/library/nginx:1.25"),
    ("library/nginx", "index.docker.io/library/nginx:latest"),
    ("docker.io/nginx", "index.docker.io/library/nginx:latest"),
    ("docker.io/library/nginx:alpine", "index.docker.io/library/nginx:alpine"),
    ("index.docker.io/nginx", "index.docker.io/library/nginx:latest"),
    ("myuser/myapp", "index.docker.io/myuser/myapp:latest"),
    ("myuser/myapp:v1.0.0-rc.1", "index.docker.io/myuser/myapp:v1.0.0-rc.1"),
    ("ghcr.io/foo/bar", "ghcr.io/foo/bar:latest"),
    ("ghcr.io/foo/bar/baz/qux:tag", "ghcr.io/foo/bar/baz/qux:tag"),
    ("gcr.io/a-b/c_d/e__f/g.h/i--j", "gcr.io/a-b/c_d/e__f/g.h/i--j:latest"),
    ("localhost/foo", "localhost/foo:latest"),
    ("localhost:5000/foo", "localhost:5000/foo:latest"),
    ("localhost:5000/foo:bar", "localhost:5000/foo:bar"),
    ("127.0.0.1:5000/foo", "127.0.0.1:5000/foo:latest"),
    ("[::1]:5000/foo:tag", "[::1]:5000/foo:tag"),
    ("[fe80::1]/foo", "[fe80::1]/foo:latest"),
    ("Registry.Example.com/foo", "Registry.Example.com/foo:latest"),
    ("nginx@\(d256)", "index.docker.io/library/nginx@\(d256)"),
    ("nginx:1.25@\(d256)", "index.docker.io/library/nginx:1.25@\(d256)"),
    ("ghcr.io/x/y@\(d512)", "ghcr.io/x/y@\(d512)"),
    ("foo:_tag", "index.docker.io/library/foo:_tag"),
    ("foo:" + String(repeating: "t", count: 128), "index.docker.io/library/foo:" + String(repeating: "t", count: 128)),
    ("localhost:5000", "index.docker.io/library/localhost:5000"),
    ("a/b/c/d/e/f", "index.docker.io/a/b/c/d/e/f:latest"),
]

/// (input, part that must be named in the error).
private let invalidCases: [(String, ImageReferenceError.Part)] = [
    ("", .reference),
    ("Nginx", .repository),
    ("ghcr.io/Foo/bar", .repository),
    ("nginx:", .tag),
    ("nginx:-bad", .tag),
    ("nginx:.bad", .tag),
    ("nginx:" + String(repeating: "t", count: 129), .tag),
    ("nginx:ta/g", .registry), // "nginx:ta" is read as host:port, as Docker does
    ("nginx@sha256:abc", .digest),
    ("nginx@sha256:" + String(repeating: "A", count: 64), .digest),
    ("nginx@md5:" + String(repeating: "a", count: 32), .digest),
    ("nginx@" + String(repeating: "a", count: 64), .digest),
    ("nginx@sha256:" + String(repeating: "g", count: 64), .digest),
    ("foo//bar", .repository),
    ("foo/bar/", .repository),
    ("-foo", .repository),
    ("foo-", .repository),
    ("foo___bar", .repository),
    ("foo..bar", .repository),
    ("foo bar", .reference),
    ("ghcr.io:abc/foo", .registry),
    ("-ghcr.io/foo", .registry),
    ("[::1/foo", .registry),
    ("[zz::1]:5000/foo", .registry),
    ("ghcr.io/", .repository),
    ("a/" + String(repeating: "b", count: 260), .name),
    (String(repeating: "a", count: 64), .repository),
    (":tag", .name),
]

@Test("valid references normalize like Docker", arguments: validCases)
func validReference(input: String, expected: String) throws {
    let ref = try ImageRef(parsing: input)
    #expect(ref.normalized == expected)
}

@Test("invalid references are rejected naming the part", arguments: invalidCases)
func invalidReference(input: String, part: ImageReferenceError.Part) {
    do {
        let ref = try ImageRef(parsing: input)
        Issue.record("expected \(input) to be rejected, got \(ref)")
    } catch {
        #expect(error.part == part, "\(error)")
        #expect(error.description.contains(part.rawValue))
        #expect(error.description.contains("\"\(input)\""))
    }
}

@Test func tableHasEnoughCases() {
    #expect(validCases.count + invalidCases.count >= 40)
}

@Test func componentsOfDockerHubShortName() throws {
    let ref = try ImageRef(parsing: "nginx")
    #expect(ref.registry == "index.docker.io")
    #expect(ref.repository == "library/nginx")
    #expect(ref.tag == nil)
    #expect(ref.effectiveTag == "latest")
    #expect(ref.digest == nil)
    #expect(ref.isDockerHub)
    #expect(ref.policyMatchString == "index.docker.io/library/nginx:latest")
    #expect(ref.kyvernoMatchString == "docker.io/nginx:latest")
}

@Test func tagAndDigestKeepsTagButPullsDigest() throws {
    let ref = try ImageRef(parsing: "ghcr.io/a/b:v1@\(d256)")
    #expect(ref.tag == "v1")
    #expect(ref.digest == d256)
    #expect(ref.pullReference == "ghcr.io/a/b@\(d256)")
    #expect(ref.policyMatchString == "ghcr.io/a/b@\(d256)")
    #expect(ref.kyvernoMatchString == "ghcr.io/a/b@\(d256)")
}

@Test func withDigestPinsAndValidates() throws {
    let ref = try ImageRef(parsing: "localhost:5000/app:1.0")
    let pinned = try ref.withDigest(d256)
    #expect(pinned.normalized == "localhost:5000/app:1.0@\(d256)")
    #expect(pinned.registry == "localhost:5000")
    #expect(throws: ImageReferenceError.self) { try ref.withDigest("sha256:nothex") }
}

@Test func dockerIoAliasesAreEqual() throws {
    let a = try ImageRef(parsing: "docker.io/library/busybox:1")
    let b = try ImageRef(parsing: "busybox:1")
    #expect(a.normalized == b.normalized)
    #expect(a.kyvernoMatchString == "docker.io/library/busybox:1")
    #expect(b.kyvernoMatchString == "docker.io/busybox:1")
}

@Test func errorMessageNamesInputAndPart() {
    do { _ = try ImageRef(parsing: "ghcr.io/Acme/app"); Issue.record("accepted") } catch {
        #expect(error.description == "invalid image reference \"ghcr.io/Acme/app\": repository: \"Acme/app\" must be lowercase")
    }
    // An uppercase first component is a registry host (Docker's rule), so this one is valid.
    #expect((try? ImageRef(parsing: "UPPER/case"))?.registry == "UPPER")
}
