import E2ESupport
import Foundation
import RegistryTestSupport
import Testing

/// `sealgate resolve` and `triangulate` (the real binary) against a loopback registry.
@Suite(.serialized)
struct RegistryCLITests {
    @Test("sealgate resolve and triangulate against a local registry")
    func resolveAndTriangulate() throws {
        let world = try E2EWorld("registry-cli")
        defer { world.stop() }
        let registry = world.registry!
        let multi = try TestImages.pushIndex(world.client, registry: registry.host, repository: "cli/app", tag: "v1")
        let resolved = try world.sealgate(["resolve", "--insecure-registry", registry.host, "--platform", "linux/arm64", "\(registry.host)/cli/app:v1"])
        #expect(resolved.status == 0, "\(resolved.stderr)")
        #expect(resolved.stdout == "\(registry.host)/cli/app:v1 → \(registry.host)/cli/app@\(multi.index.digest) (linux/arm64: \(multi.arm64.digest))\n")

        let tri = try world.sealgate(["triangulate", "--insecure-registry", registry.host, "\(registry.host)/cli/app:v1"])
        #expect(tri.stdout == "\(registry.host)/cli/app:\(multi.index.digest.replacingOccurrences(of: ":", with: "-")).sig\n")

        let bad = try world.sealgate(["resolve", "--insecure-registry", registry.host, "\(registry.host)/cli/app:missing", "UPPER/case"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("cli/app:missing") && bad.stderr.contains("not found"), "\(bad.stderr)")
        #expect(bad.stderr.contains("UPPER/case"), "\(bad.stderr)")
    }
}
