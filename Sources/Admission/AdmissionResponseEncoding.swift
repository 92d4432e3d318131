import Foundation
import SealgateCore

/// Writes the AdmissionReview answer straight into bytes: the same sorted-key JSON `JSONEncoder` writes (checked
/// by AdmissionResponseEncodingTests), without its generic machinery on every request.
enum AdmissionResponseEncoding {
    static func encode(apiVersion: String, response r: AdmissionResponse) -> [UInt8] {
        var w = Writer()
        w.raw("{\"apiVersion\":"); w.string(apiVersion)
        w.raw(",\"kind\":\"AdmissionReview\",\"response\":{\"allowed\":"); w.raw(r.allowed ? "true" : "false")
        if let annotations = r.auditAnnotations {
            w.raw(",\"auditAnnotations\":{")
            for (i, key) in annotations.keys.sorted().enumerated() {
                if i > 0 { w.raw(",") }
                w.string(key); w.raw(":"); w.string(annotations[key]!)
            }
            w.raw("}")
        }
        if let patch = r.patch { w.raw(",\"patch\":"); w.string(patch.base64EncodedString()) }
        if let patchType = r.patchType { w.raw(",\"patchType\":"); w.string(patchType) }
        if let status = r.status {
            w.raw(",\"status\":{")
            var first = true
            func member(_ name: String, _ write: (inout Writer) -> Void) {
                w.raw(first ? "\"" : ",\""); first = false
                w.raw(name); w.raw("\":")
                write(&w)
            }
            if let code = status.code { member("code") { $0.raw(String(code)) } }
            if let message = status.message { member("message") { $0.string(message) } }
            if let reason = status.reason { member("reason") { $0.string(reason) } }
            if let s = status.status { member("status") { $0.string(s) } }
            w.raw("}")
        }
        w.raw(",\"uid\":"); w.string(r.uid)
        if let warnings = r.warnings {
            w.raw(",\"warnings\":[")
            for (i, warning) in warnings.enumerated() {
                if i > 0 { w.raw(",") }
                w.string(warning)
            }
            w.raw("]")
        }
        w.raw("}}")
        return w.bytes
    }

    struct Writer {
        var bytes: [UInt8] = []

        init() { bytes.reserveCapacity(512) }

        mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

        /// A JSON string as JSONEncoder writes it with `.withoutEscapingSlashes`: quote, backslash and control
        /// characters escaped (short forms for \b \f \n \r \t), everything else as UTF-8.
        mutating func string(_ text: String) {
            var text = text
            text.withUTF8 { utf8 in
                bytes.append(0x22)
                // Most strings (uids, image lists) need no escape: copied at once.
                if !utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
                    bytes.append(contentsOf: utf8)
                } else {
                    for b in utf8 { escaped(b) }
                }
                bytes.append(0x22)
            }
        }

        private mutating func escaped(_ b: UInt8) {
            switch b {
            case 0x22: bytes.append(contentsOf: [0x5C, 0x22])
            case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
            case 0x08: bytes.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case ..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            default: bytes.append(b)
            }
        }
    }
}
