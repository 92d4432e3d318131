import Foundation

/// cel-go's encoders extension: base64.encode(bytes) and base64.decode(string), padding optional.
enum EncodersExtension {
    static let functions: [CELFunction] = [
        CELFunction("base64.encode", arity: 1) { call in
            guard case .bytes(let b) = call.args[0] else { return nil }
            return .string(Data(b).base64EncodedString())
        },
        CELFunction("base64.decode", arity: 1) { call in
            guard case .string(let s) = call.args[0] else { return nil }
            var text = s
            if text.count % 4 != 0 { text += String(repeating: "=", count: 4 - text.count % 4) }
            guard let data = Data(base64Encoded: text) else { throw CELError.eval("base64.decode: illegal base64 data") }
            return .bytes(Array(data))
        },
    ]
}
