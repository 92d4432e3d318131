// Seeded mutation fuzzer for every parser reachable from the network or from policy files.
//   sealgate-fuzz TARGET [--seconds N] [--seed S] [--corpus DIR]     (TARGET: all, or one of the names below)
// Each target starts from the seeds in fuzz/corpus/<target>/, applies random mutations (bit flips, byte
// insertions and deletions, duplicated and spliced ranges, JSON/YAML/grammar tokens), and checks the target's
// invariant. Deterministic for a seed. A crash kills the process after the input is saved to
// fuzz-crash-<target>.bin (printed); a broken invariant or an input slower than 5 s exits 1.
import Foundation
import FuzzTargets
import TestSupport

// MARK: - Mutation

func mutate(_ input: [UInt8], seeds: [[UInt8]], tokens: [[UInt8]], rng: inout SeededRandom) -> [UInt8] {
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
    var rng = SeededRandom(state: seed ^ target.name.utf8.reduce(UInt64(0)) { $0 &* 31 &+ UInt64($1) })
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
        if took > 5 {  // generous: a busy machine must not fail the run, a runaway input takes far longer
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
