import Foundation

/// Shared helpers for tests: locating the built binary, fixtures, running processes.
public enum TestPaths {
    /// Repository root (the directory holding Package.swift).
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()

    /// `../shared/testdata` beside the checkout.
    public static let sharedTestdata = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/testdata")

    public static let fixtures = packageRoot.appendingPathComponent("Tests/Fixtures")

    /// Directory of the built products (the one holding the test bundle).
    public static let productsDirectory: URL = {
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }()

    /// The `sealgate` executable built beside the tests.
    public static var sealgateBinary: URL { productsDirectory.appendingPathComponent("sealgate") }
}

/// Deterministic PRNG (SplitMix64) so seeded mutation runs reproduce.
public struct SeededRandom: RandomNumberGenerator {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
