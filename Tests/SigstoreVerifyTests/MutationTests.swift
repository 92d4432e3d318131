import Foundation
import SigstoreVerify
import TestSupport
import Testing

@Suite("Garbled input never crashes")
struct MutationTests {
    static let casesDir = TestPaths.sharedTestdata.appendingPathComponent("sigstore-conformance/bundle-verify")

    struct Case { var bundle: Data; var root: Data?; var artifact: Data }

    static func loadCases() -> [Case] {
        let fm = FileManager.default
        let dirs = ((try? fm.contentsOfDirectory(atPath: casesDir.path)) ?? []).sorted()
        let defaultArtifact = fm.contents(atPath: casesDir.appendingPathComponent("a.txt").path) ?? Data()
        return dirs.compactMap { name in
            let d = casesDir.appendingPathComponent(name)
            guard let b = fm.contents(atPath: d.appendingPathComponent("bundle.sigstore.json").path),
                  fm.contents(atPath: d.appendingPathComponent("key.pub").path) == nil else { return nil }
            return Case(bundle: b, root: fm.contents(atPath: d.appendingPathComponent("trusted_root.json").path),
                        artifact: fm.contents(atPath: d.appendingPathComponent("artifact").path) ?? defaultArtifact)
        }
    }

    // MARK: mutations

    static func mutate(_ data: Data, _ rng: inout SeededRandom) -> Data {
        switch Int.random(in: 0..<5, using: &rng) {
        case 0:  // truncate
            return data.prefix(Int.random(in: 0..<max(data.count, 1), using: &rng))
        case 1:  // flip bytes
            var d = data
            for _ in 0..<Int.random(in: 1...8, using: &rng) where !d.isEmpty {
                d[Int.random(in: 0..<d.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            }
            return d
        default:
            guard var obj = try? JSONSerialization.jsonObject(with: data) else { return data }
            var strings: [String] = []
            collectStrings(obj, into: &strings)
            let op = Int.random(in: 0..<3, using: &rng)
            obj = edit(obj, op: op, strings: strings, rng: &rng)
            return (try? JSONSerialization.data(withJSONObject: obj)) ?? data
        }
    }

    static func collectStrings(_ v: Any, into out: inout [String]) {
        if let s = v as? String { out.append(s) }
        if let d = v as? [String: Any] { d.values.forEach { collectStrings($0, into: &out) } }
        if let a = v as? [Any] { a.forEach { collectStrings($0, into: &out) } }
    }

    /// op 0: drop a field; 1: swap a string for another string of the bundle (e.g. base64 blobs); 2: corrupt base64 inside a string.
    static func edit(_ v: Any, op: Int, strings: [String], rng: inout SeededRandom) -> Any {
        if var d = v as? [String: Any], !d.isEmpty {
            let key = d.keys.sorted()[Int.random(in: 0..<d.count, using: &rng)]
            if op == 0 && Bool.random(using: &rng) {
                d.removeValue(forKey: key)
            } else {
                d[key] = edit(d[key]!, op: op, strings: strings, rng: &rng)
            }
            return d
        }
        if var a = v as? [Any], !a.isEmpty {
            let i = Int.random(in: 0..<a.count, using: &rng)
            if op == 0 && Bool.random(using: &rng) { a.remove(at: i) } else { a[i] = edit(a[i], op: op, strings: strings, rng: &rng) }
            return a
        }
        if let s = v as? String {
            switch op {
            case 1: return strings.randomElement(using: &rng) ?? s
            case 2:
                guard var raw = Data(base64Encoded: s), !raw.isEmpty else { return String(s.reversed()) }
                raw[Int.random(in: 0..<raw.count, using: &rng)] ^= 0x5a
                if Bool.random(using: &rng) { raw = raw.prefix(raw.count / 2) }
                return raw.base64EncodedString()
            default: return ""
            }
        }
        if v is NSNumber { return -1 }
        return v
    }

    @Test("400 seeded mutations of the conformance bundles yield a verdict or a typed error")
    func seededMutations() throws {
        let cases = Self.loadCases()
        try #require(cases.count > 30, "conformance bundles not found under \(Self.casesDir.path)")
        let publicGood = try TrustedRoot.publicGood()
        let identity = CertificateIdentity(
            issuer: .exact("https://token.actions.githubusercontent.com"),
            subjectAlternativeName: try .regexp("^https://github.com/sigstore-conformance/"))
        var rng = SeededRandom(state: 0x5EA1_6A7E)
        var verdicts = (accepted: 0, rejected: 0)
        for i in 0..<400 {
            let c = cases[i % cases.count]
            var bundleData = c.bundle
            var rootData = c.root
            for _ in 0..<Int.random(in: 1...3, using: &rng) { bundleData = Self.mutate(bundleData, &rng) }
            if i % 10 == 0, let r = rootData { rootData = Self.mutate(r, &rng) }
            let artifact: Artifact = i % 2 == 0 ? .bytes(c.artifact) : .digest(.sha256, HashAlgorithm.sha256.hash(c.artifact))
            do {
                let root = try rootData.map { try TrustedRoot(json: $0) } ?? publicGood
                let bundle = try SigstoreBundle(json: bundleData)
                _ = try BundleVerifier(trustedRoot: root).verify(bundle: bundle, artifact: artifact, policy: .identity(identity), at: Date())
                verdicts.accepted += 1
            } catch is SigstoreError {
                verdicts.rejected += 1
            } catch {
                Issue.record("mutation \(i) produced an untyped error: \(type(of: error)) \(error)")
            }
        }
        #expect(verdicts.accepted + verdicts.rejected == 400)
        #expect(verdicts.rejected > 200, "most garbled bundles must be rejected")
    }
}
