// Coverage-guided fuzzing of the parsers with libFuzzer. Built with -DFUZZING (fuzz/build-libfuzz.sh), `main`
// hands over to libFuzzer's driver; the target comes from SEALGATE_FUZZ_TARGET. A broken invariant traps, so
// libFuzzer saves the input like a crash. Built normally (CI), it replays files through a target instead:
//   sealgate-libfuzz TARGET FILE...
import Foundation
import FuzzTargets

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

nonisolated(unsafe) var selected: Target!

@main enum LibFuzzerMain {
    static func main() {
        let name = ProcessInfo.processInfo.environment["SEALGATE_FUZZ_TARGET"] ?? ""
        guard let target = targets.first(where: { $0.name == name }) else {
            print("set SEALGATE_FUZZ_TARGET to one of: \(targets.map(\.name).joined(separator: ", "))")
            exit(2)
        }
        selected = target
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
            do { try selected.check(bytes) } catch { fatalError("invariant broken: \(error)") }
            return 0
        })
    }
}
#else
@main enum ReplayMain {
    static func main() throws {
        let args = CommandLine.arguments.dropFirst()
        guard let name = args.first, let target = targets.first(where: { $0.name == name }) else {
            print("usage: sealgate-libfuzz \(targets.map(\.name).joined(separator: "|")) FILE...")
            exit(2)
        }
        for file in args.dropFirst() {
            try target.check([UInt8](try Data(contentsOf: URL(fileURLWithPath: file))))
            print("\(file): ok")
        }
    }
}
#endif
