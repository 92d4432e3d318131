import Foundation
import Testing
import TestSupport

/// `sealgate explain` replays the webhook's decision on files: same engine, every check shown.
@Suite(.serialized)
struct ExplainCommandTests {
    func explain(_ arguments: [String], stdin: Data? = nil, home: URL) throws -> (status: Int32, stdout: String, stderr: String) {
        let run = try SealgateCLI.run(["explain"] + arguments, stdin: stdin, environment: ["HOME": home.path])
        return (run.status, run.stdout, run.stderr)
    }

    @Test("signed images from a real registry: the tree names digest, policy, authority and check; JSON carries structured checks")
    func signedTree() throws {
        let world = try VerificationCacheE2ETests.world.get()
        let common = ["--policy", world.policyFile.path] + world.e2e.trustFlags
        let review = try world.review()
        let text = try explain([review] + common, home: world.dir)
        #expect(text.status == 0, "\(text.stdout) \(text.stderr)")
        #expect(text.stdout.hasPrefix("Pod shop/web: ADMITTED"), "\(text.stdout)")
        for repo in world.repos {
            #expect(text.stdout.contains("image \(world.registry.host)/\(repo):v1 @ sha256:"), "\(text.stdout)")
        }
        #expect(text.stdout.contains("✔ authorities[0]") && text.stdout.contains("[signature] signature verified"), "\(text.stdout)")

        let json = try explain([review, "-o", "json", "--mutate"] + common, home: world.dir)
        let resources = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]], "\(json.stderr)")
        let images = try #require(resources.first?["images"] as? [[String: Any]])
        #expect(images.count == 3)
        let checks = images.flatMap { $0["checks"] as? [[String: Any]] ?? [] }
        #expect(checks.filter { $0["check"] as? String == "signature" && $0["result"] as? String == "pass" }.count == 3)
        #expect(checks.allSatisfy { $0["policy"] as? String == "ClusterImagePolicy/cache-keyless" })
        #expect((resources.first?["patch"] as? String)?.contains("@sha256:") == true, "the mutating patch pins")

        // An unsigned image, as a plain manifest on stdin: exit 1, the failing check explained.
        let manifest = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: api, namespace: shop}
        spec:
          template:
            spec:
              containers: [{name: api, image: "\(world.registry.host)/cache/unsigned:v1"}]
        """
        let denied = try explain(["-"] + common, stdin: Data(manifest.utf8), home: world.dir)
        #expect(denied.status == 1)
        #expect(denied.stdout.hasPrefix("Deployment shop/api: DENIED"), "\(denied.stdout)")
        #expect(denied.stdout.contains("✘"), "\(denied.stdout)")
    }

    @Test("Lists (kubectl get -o json) of several resources; bad input is a usage error naming the file")
    func listsAndErrors() throws {
        let dir = try makeTemporaryDirectory("explain")
        let policies = dir.appendingPathComponent("p.yaml")
        try """
        apiVersion: policy.sigstore.dev/v1beta1
        kind: ClusterImagePolicy
        metadata: {name: block-evil}
        spec:
          images: [{glob: "evil.example/**"}]
          authorities: [{static: {action: fail, message: "evil.example is blocked"}}]
        """.write(to: policies, atomically: true, encoding: .utf8)
        let list = #"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"good","namespace":"a"},"spec":{"containers":[{"name":"c","image":"ghcr.io/x/y:1"}]}},{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"bad","namespace":"b"},"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"evil.example/m:1"}]}}}}}}]}"#
        let file = dir.appendingPathComponent("list.json")
        try list.write(to: file, atomically: true, encoding: .utf8)
        let run = try explain([file.path, "--policy", policies.path], home: dir)
        #expect(run.status == 1)
        #expect(run.stdout.contains("Pod a/good: ADMITTED"), "\(run.stdout)")
        #expect(run.stdout.contains("CronJob b/bad: DENIED"), "\(run.stdout)")
        #expect(run.stdout.contains("evil.example is blocked"), "\(run.stdout)")
        let audit = try explain([file.path, "--policy", policies.path, "--mode", "audit"], home: dir)
        #expect(audit.status == 0)
        #expect(audit.stdout.contains("would be denied in enforce mode"), "\(audit.stdout)")

        let broken = dir.appendingPathComponent("broken.yaml")
        try "kind: Pod\nmetadata: [unclosed\n".write(to: broken, atomically: true, encoding: .utf8)
        let bad = try explain([broken.path, "--policy", policies.path], home: dir)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("broken.yaml"), "\(bad.stderr)")
        let noKind = try explain(["-", "--policy", policies.path], stdin: Data("metadata: {name: x}\n".utf8), home: dir)
        #expect(noKind.stderr.contains("no kind"), "\(noKind.stderr)")
    }
}
