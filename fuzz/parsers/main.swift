// Seeded mutation fuzzer for every parser reachable from the network or from policy files.
//   sealgate-fuzz TARGET [--seconds N] [--seed S] [--corpus DIR]     (TARGET: all, or one of the names below)
// Each target starts from the seeds in fuzz/corpus/<target>/, applies random mutations (bit flips, byte
// insertions and deletions, duplicated and spliced ranges, JSON/YAML/grammar tokens), and checks the target's
// invariant. Deterministic for a seed. A crash kills the process after the input is saved to
// fuzz-crash-<target>.bin (printed); a broken invariant or an input slower than 2 s exits 1.
import Admission
import Crypto
import Foundation
import ImagePolicy
import ImageReference
import Logging
import Registry
import SigstoreVerify

struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

struct InvariantBroken: Error, CustomStringConvertible { let description: String }

/// A parser under test: `check` throws `InvariantBroken` when the parser misbehaves; parse errors are fine.
struct Target {
    let name: String
    let tokens: [String]
    let check: ([UInt8]) throws -> Void
}

let fixedDocument = try! JSONValue.parse(#"{"a":"b","c":[1,2,3],"items":[{"kind":"Pod","metadata":{"name":"x"},"size":3}],"predicate":{"buildType":"t"},"b":[{"c":{"d":2}}]}"#)
let quiet = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })

struct NoVerifier: AuthorityVerifier {
    func verifySignature(image: ImageRef, digest: String, authority: SignatureAuthority) async -> AuthorityOutcome { .fail("fuzz: no verification") }
    func verifyAttestations(image: ImageRef, digest: String, authority: SignatureAuthority?, predicateType: String) async -> AuthorityOutcome { .fail("fuzz: no verification") }
}
struct NoResolver: DigestResolver {
    struct Offline: Error {}
    func digest(of image: ImageRef, deadline: Double) async throws -> String { throw Offline() }
}
let staticPolicies = try! PolicyLoader.load(text: """
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: fuzz}
spec:
  images: [{glob: "**"}]
  authorities: [{static: {action: pass}}]
""", file: "fuzz.yaml").get()
let endpoint = AdmissionEndpoint(decider: PolicyDecider(store: PolicyStore(policies: staticPolicies), resolver: NoResolver(), verifier: NoVerifier(),
                                                        settings: AdmissionSettings(), logger: quiet))

let targets: [Target] = [
    Target(name: "admission", tokens: ["{", "}", "[", "]", "\"", ":", ",", "null", "true", "1e999", "\"\\u0000\"", "\"request\"", "\"uid\"", "\"object\""]) { bytes in
        let reply = endpoint.handle(method: "POST", contentType: "application/json", query: "timeout=1s", body: bytes, mutating: false)
        guard reply.status == 200 || reply.status == 400 else { throw InvariantBroken(description: "status \(reply.status)") }
        guard (try? JSONSerialization.jsonObject(with: Data(reply.body))) != nil else { throw InvariantBroken(description: "reply is not JSON") }
    },
    Target(name: "policy", tokens: ["\n", ": ", "- ", "{", "}", "[", "]", "&a", "*a", "!!binary", "---\n", "**", "glob: \"[\"", "~", "'", "\"", "\t"]) { bytes in
        let result = PolicyLoader.load(text: String(decoding: bytes, as: UTF8.self), file: "fuzz.yaml")
        for issue in result.issues where !issue.description.contains("fuzz.yaml") {
            throw InvariantBroken(description: "issue without file name: \(issue)")
        }
    },
    Target(name: "imageref", tokens: ["/", ":", "@", "sha256:", ".", "-", "_", "__", "[", "]", "localhost", "A", "\u{00e9}", " ", String(repeating: "a", count: 300)]) { bytes in
        guard let ref = try? ImageRef(parsing: String(decoding: bytes, as: UTF8.self)) else { return }
        // Normalizing is idempotent: the normalized form parses to the same reference. (Docker checks the
        // 255-character name limit on the name as written, so a long short name may normalize past it.)
        guard ref.name.utf8.count <= 255 else { return }
        let again: ImageRef
        do { again = try ImageRef(parsing: ref.normalized) } catch { throw InvariantBroken(description: "normalized form \(ref.normalized) does not parse: \(error)") }
        guard again.registry == ref.registry, again.repository == ref.repository, again.digest == ref.digest,
              again.effectiveTag == ref.effectiveTag else { throw InvariantBroken(description: "\(ref.normalized) re-parses as \(again.normalized)") }
    },
    Target(name: "bundle", tokens: ["{", "}", "\"", "null", "0", "\"AAAA\"", "\"mediaType\"", "\"tlogEntries\"", "\"inclusionProof\"", "\"hashes\"", "[]"]) { bytes in
        guard let bundle = try? SigstoreBundle(json: Data(bytes)) else { return }
        let root = try! TrustedRoot.publicGood()
        let policy = VerificationPolicy.identity(CertificateIdentity(issuer: .regex(".*"), subjectAlternativeName: .regex(".*")))
        _ = try? BundleVerifier(trustedRoot: root).verify(bundle: bundle, artifact: .bytes(Data("fuzz".utf8)), policy: policy, at: Date())
    },
    Target(name: "x509", tokens: ["\u{30}\u{82}", "\u{30}\u{80}", "\u{06}\u{03}", "\u{02}\u{01}\u{00}", "\u{a0}\u{03}", "\u{04}\u{00}", "\u{ff}\u{ff}\u{ff}\u{ff}"]) { bytes in
        _ = try? FulcioCertificate(der: Data(bytes))
    },
    Target(name: "dsse", tokens: ["{", "}", "\"", "\"payload\"", "\"signatures\"", "\"sig\"", "\"=\"", "null", "[]"]) { bytes in
        guard let envelope = try? DSSEEnvelope(json: Data(bytes)) else { return }
        _ = envelope.pae
        _ = try? InTotoStatement(json: envelope.payload)
    },
    Target(name: "manifest", tokens: ["{", "}", "\"", "\"manifests\"", "\"layers\"", "\"size\"", "-1", "1e30", "\"platform\"", "null", "[]"]) { bytes in
        let digest = "sha256:" + SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        _ = try? Manifest(bytes: bytes, digest: digest, contentType: nil)
        _ = try? Manifest(bytes: bytes, digest: digest, contentType: "application/vnd.oci.image.index.v1+json")
    },
    Target(name: "jmespath", tokens: ["[", "]", "{", "}", "(", ")", "|", "||", "&&", "!", "@", "&", "`", "'", "*", "?", ".", "-1:", "::-1", "==", "length(", "sort_by(", "`[]`"]) { bytes in
        guard let expression = try? JMESPath.compile(String(decoding: bytes, as: UTF8.self)) else { return }
        _ = try? expression.search(fixedDocument)
    },
    Target(name: "cue", tokens: ["{", "}", "[", "]", ":", "!", "=~", "<", ">=", "|", "&", "*", "\"", "#", "import \"strings\"\n", "string", "int", "_|_", "...", "\n"]) { bytes in
        guard let program = try? CUEProgram(compiling: String(decoding: bytes, as: UTF8.self)) else { return }
        _ = program.violations(of: fixedDocument)
    },
]

// MARK: - Mutation

func mutate(_ input: [UInt8], seeds: [[UInt8]], tokens: [[UInt8]], rng: inout SplitMix64) -> [UInt8] {
    var out = input
    for _ in 0...(Int(rng.next() % 4)) {
        let position = out.isEmpty ? 0 : Int(rng.next() % UInt64(out.count + 1))
        switch rng.next() % 8 {
        case 0 where !out.isEmpty: out[min(position, out.count - 1)] ^= UInt8(1 << (rng.next() % 8))
        case 1: out.insert(UInt8(truncatingIfNeeded: rng.next()), at: position)
        case 2 where !out.isEmpty:
            let end = min(out.count, position + Int(rng.next() % 16) + 1)
            out.removeSubrange(min(position, out.count - 1)..<end)
        case 3 where !out.isEmpty:
            let start = min(position, out.count - 1), end = min(out.count, start + Int(rng.next() % 64) + 1)
            out.insert(contentsOf: out[start..<end], at: Int(rng.next() % UInt64(out.count + 1)))
        case 4, 5: out.insert(contentsOf: tokens[Int(rng.next() % UInt64(tokens.count))], at: position)
        case 6 where !seeds.isEmpty:
            let other = seeds[Int(rng.next() % UInt64(seeds.count))]
            if !other.isEmpty {
                let start = Int(rng.next() % UInt64(other.count))
                out.insert(contentsOf: other[start..<min(other.count, start + Int(rng.next() % 128) + 1)], at: position)
            }
        default: if out.count > 1 { out.removeSubrange(position.clamped(to: 1...out.count)...) }
        }
    }
    return out
}

extension Int {
    func clamped(to r: ClosedRange<Int>) -> Int { Swift.min(Swift.max(self, r.lowerBound), r.upperBound) }
}

// MARK: - Crash capture: the input being run is written out if the process dies.

nonisolated(unsafe) var currentInput: UnsafeMutablePointer<UInt8> = .allocate(capacity: 1 << 22)
nonisolated(unsafe) var currentCount = 0
nonisolated(unsafe) var crashFile: UnsafeMutablePointer<CChar> = strdup("fuzz-crash.bin")

func onCrash(_ signal: Int32) {
    let fd = open(crashFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    if fd >= 0 { _ = write(fd, currentInput, currentCount); close(fd) }
    let note = "\nfuzz: crashed (signal \(signal)); input saved\n"
    _ = note.withCString { write(2, $0, strlen($0)) }
    _exit(128 + signal)
}

// MARK: - Main

var args = CommandLine.arguments.dropFirst()
guard let which = args.popFirst() else {
    print("usage: sealgate-fuzz all|\(targets.map(\.name).joined(separator: "|")) [--seconds N] [--seed S] [--corpus DIR]")
    exit(2)
}
var seconds = 10.0, seed: UInt64 = 1
var corpusRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("corpus")
while let a = args.popFirst() {
    switch a {
    case "--seconds": seconds = Double(args.popFirst() ?? "") ?? seconds
    case "--seed": seed = UInt64(args.popFirst() ?? "") ?? seed
    case "--corpus": corpusRoot = URL(fileURLWithPath: args.popFirst() ?? ".")
    default: print("unknown argument \(a)"); exit(2)
    }
}
let chosen = which == "all" ? targets : targets.filter { $0.name == which }
guard !chosen.isEmpty else { print("unknown target \(which)"); exit(2) }
for s in [SIGSEGV, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE] { signal(s, onCrash) }

var failed = false
for target in chosen {
    let dir = corpusRoot.appendingPathComponent(target.name)
    let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
    let seeds = files.compactMap { try? [UInt8](Data(contentsOf: dir.appendingPathComponent($0))) }
    guard !seeds.isEmpty else { print("\(target.name): no seeds in \(dir.path)"); failed = true; continue }
    let tokens = target.tokens.map { Array($0.utf8) }
    free(crashFile); crashFile = strdup("fuzz-crash-\(target.name).bin")
    var rng = SplitMix64(state: seed ^ target.name.utf8.reduce(UInt64(0)) { $0 &* 31 &+ UInt64($1) })
    let budget = seconds  // per target
    let start = Date()
    var executions = 0, slowest = 0.0
    var input = seeds[0]
    while Date().timeIntervalSince(start) < budget {
        // Mostly mutate the last input further; every 8th run restart from a seed (stacked mutations, then fresh).
        input = executions % 8 == 0 ? seeds[Int(rng.next() % UInt64(seeds.count))] : input
        input = mutate(input, seeds: seeds, tokens: tokens, rng: &rng)
        if input.count > 1 << 20 { input = Array(input.prefix(1 << 20)) }
        currentCount = input.count
        input.withUnsafeBufferPointer { currentInput.update(from: $0.baseAddress!, count: $0.count) }
        let t0 = Date()
        do { try target.check(input) } catch {
            let path = "fuzz-invariant-\(target.name).bin"
            _ = FileManager.default.createFile(atPath: path, contents: Data(input))
            print("\(target.name): invariant broken after \(executions) executions: \(error) (input saved to \(path))")
            failed = true
            break
        }
        let took = Date().timeIntervalSince(t0)
        slowest = max(slowest, took)
        if took > 2 {
            let path = "fuzz-slow-\(target.name).bin"
            _ = FileManager.default.createFile(atPath: path, contents: Data(input))
            print("\(target.name): one input took \(String(format: "%.1f", took)) s (saved to \(path))")
            failed = true
            break
        }
        executions += 1
    }
    print("\(target.name): \(executions) executions in \(String(format: "%.0f", Date().timeIntervalSince(start))) s, 0 crashes, slowest input \(String(format: "%.1f", slowest * 1000)) ms, \(seeds.count) seeds")
}
exit(failed ? 1 : 0)
