import Foundation

/// The regular files of a tar archive (ustar, with PAX and GNU long names), by path. Only what a serialized
/// TUF repository needs: directories, links and devices are skipped, never followed or created.
enum TarArchive {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static let block = 512

    static func files(_ data: Data, maxEntries: Int = 10_000) throws -> [String: Data] {
        let bytes = [UInt8](data)
        var files: [String: Data] = [:]
        var offset = 0
        var pendingName: String?
        var entries = 0
        while offset < bytes.count {
            guard offset + block <= bytes.count else {
                if bytes[offset...].allSatisfy({ $0 == 0 }) { break }
                throw Failure(description: "truncated header at byte \(offset)")
            }
            let header = bytes[offset..<(offset + block)]
            if header.allSatisfy({ $0 == 0 }) { break }  // end-of-archive marker
            entries += 1
            guard entries <= maxEntries else { throw Failure(description: "more than \(maxEntries) entries") }
            try checkChecksum(header, at: offset)
            guard let size = octal(header, 124, 12), size >= 0 else { throw Failure(description: "entry at byte \(offset): bad size field") }
            let start = offset + block
            guard size <= bytes.count - start else { throw Failure(description: "entry at byte \(offset): truncated (\(size) bytes announced)") }
            let body = Data(bytes[start..<(start + size)])
            let type = header[header.startIndex + 156]
            switch type {
            case UInt8(ascii: "x"):
                pendingName = paxPath(body) ?? pendingName
            case UInt8(ascii: "L"):
                pendingName = String(decoding: body.prefix { $0 != 0 }, as: UTF8.self)
            case UInt8(ascii: "0"), 0:
                files[pendingName ?? ustarName(header)] = body
                pendingName = nil
            default:
                pendingName = nil  // directories, links, global headers: nothing to keep
            }
            offset = start + (size + block - 1) / block * block
        }
        return files
    }

    private static func checkChecksum(_ header: ArraySlice<UInt8>, at offset: Int) throws {
        guard let stored = octal(header, 148, 8) else { throw Failure(description: "entry at byte \(offset): bad checksum field") }
        var sum = 0
        for (i, b) in header.enumerated() { sum += (148..<156).contains(i) ? 32 : Int(b) }
        guard sum == stored else { throw Failure(description: "entry at byte \(offset): header checksum mismatch (not a tar archive?)") }
    }

    private static func field(_ header: ArraySlice<UInt8>, _ from: Int, _ length: Int) -> String {
        let start = header.startIndex + from
        return String(decoding: header[start..<(start + length)].prefix { $0 != 0 }, as: UTF8.self)
    }

    private static func octal(_ header: ArraySlice<UInt8>, _ from: Int, _ length: Int) -> Int? {
        let text = field(header, from, length).trimmingCharacters(in: CharacterSet(charactersIn: " \0"))
        return text.isEmpty ? 0 : Int(text, radix: 8)
    }

    private static func ustarName(_ header: ArraySlice<UInt8>) -> String {
        let name = field(header, 0, 100)
        let prefix = field(header, 257, 6).hasPrefix("ustar") ? field(header, 345, 155) : ""
        return prefix.isEmpty ? name : prefix + "/" + name
    }

    /// The `path` record of a PAX extended header ("LEN path=VALUE\n" records).
    private static func paxPath(_ body: Data) -> String? {
        for record in String(decoding: body, as: UTF8.self).split(separator: "\n") {
            guard let space = record.firstIndex(of: " ") else { continue }
            let pair = record[record.index(after: space)...]
            if pair.hasPrefix("path=") { return String(pair.dropFirst(5)) }
        }
        return nil
    }
}
