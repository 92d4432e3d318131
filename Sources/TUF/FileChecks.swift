import Crypto
import Foundation

/// Length and hash checks for metadata named by a parent role and for target files. Hashes are compared only
/// after the length, so an over-long file is named as such; an algorithm we cannot compute fails closed.
public enum FileChecks {
    static func digest(_ algorithm: String, _ data: Data) -> String? {
        switch algorithm {
        case "sha256": Hex.encode(SHA256.hash(data: data))
        case "sha384": Hex.encode(SHA384.hash(data: data))
        case "sha512": Hex.encode(SHA512.hash(data: data))
        default: nil
        }
    }

    public static func check(_ name: String, _ data: Data, length: Int?, hashes: [HashEntry]?) throws {
        if let length, data.count != length { throw TUFError.lengthMismatch(name: name, expected: length, got: data.count) }
        for h in hashes ?? [] {
            guard let actual = digest(h.algorithm, data) else {
                throw TUFError.malformed(role: name, detail: "hash algorithm \(h.algorithm) is not supported")
            }
            guard actual == h.digest.lowercased() else { throw TUFError.hashMismatch(name: name, algorithm: h.algorithm) }
        }
    }

    static func check(_ name: String, _ data: Data, _ meta: MetaFile) throws {
        try check(name, data, length: meta.length, hashes: meta.hashes)
    }

    static func check(_ target: TargetFile, _ data: Data) throws {
        try check(target.path, data, length: target.length, hashes: target.hashes)
    }
}
