import CZlib
import Foundation

/// gzip decompression with zlib, bounded: a TrustRoot's `mirrorFS` comes from a policy, so a small archive
/// that would expand without end (a decompression bomb) stops at `maxBytes` with an error.
enum Gunzip {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func decompress(_ input: Data, maxBytes: Int) throws -> Data {
        var stream = z_stream()
        guard sealgate_inflate_init_gzip(&stream) == Z_OK else { throw Failure(description: "zlib: cannot initialise") }
        defer { inflateEnd(&stream) }
        var output = Data()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var status = Z_OK
        try input.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard let base = raw.bindMemory(to: Bytef.self).baseAddress else { throw Failure(description: "not gzip data: empty") }
            stream.next_in = UnsafeMutablePointer(mutating: base)
            stream.avail_in = uInt(raw.count)
            while status != Z_STREAM_END {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { buffer in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = uInt(buffer.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return buffer.count - Int(stream.avail_out)
                }
                guard status == Z_OK || status == Z_STREAM_END else {
                    let reason = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                    throw Failure(description: status == Z_BUF_ERROR ? "gzip data is truncated" : "not valid gzip data: \(reason)")
                }
                guard output.count + produced <= maxBytes else { throw Failure(description: "expands to more than \(maxBytes) bytes") }
                output.append(contentsOf: chunk[0..<produced])
            }
        }
        return output
    }
}
