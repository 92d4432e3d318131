import Foundation
import SealgateCore

/// Checks that a Rekor entry body (hashedrekord 0.0.1/0.0.2, dsse 0.0.1/0.0.2, intoto 0.0.2) records exactly
/// the signature, signer and artifact/payload being verified.
public enum RekorBodyMatcher {
    /// The verifier material the entry must name.
    public enum Signer: Sendable {
        case certificate(der: Data)
        case publicKey(PublicKey)
        /// No verifier is known (verify-tlog of a key-signed bundle): whatever key the body records is not compared.
        case recorded
    }

    public static func check(_ entry: TransparencyLogEntry, content: SigstoreBundle.Content, signer: Signer, artifact: Artifact?) throws {
        // JSONScanner reads the body (no Foundation tree); what it refuses, Foundation reads as before.
        guard let body = object((try? JSONValue.parse(bytes: Array(entry.canonicalizedBody))) ?? (try? JSONValue.parse(data: entry.canonicalizedBody))) else {
            throw SigstoreError.tlogBodyMismatch("body is not JSON")
        }
        let kind = body["kind"]?.stringValue ?? "", version = body["apiVersion"]?.stringValue ?? ""
        guard kind == entry.kind, version == entry.version else {
            throw SigstoreError.tlogBodyMismatch("body is \(kind) \(version) but entry says \(entry.kind) \(entry.version)")
        }
        guard let spec = object(body["spec"]) else { throw SigstoreError.tlogBodyMismatch("body has no spec") }
        switch (kind, version, content) {
        case ("hashedrekord", "0.0.1", _):
            try hashedRekordV001(spec, content: content, signer: signer, artifact: artifact)
        case ("hashedrekord", "0.0.2", _):
            try hashedRekordV002(spec, content: content, signer: signer, artifact: artifact)
        case ("dsse", "0.0.1", .dsse(let env)):
            try dsseV001(spec, env: env, signer: signer)
        case ("dsse", "0.0.2", .dsse(let env)):
            try dsseV002(spec, env: env, signer: signer)
        case ("intoto", "0.0.2", .dsse(let env)):
            try intotoV002(spec, env: env, signer: signer)
        default:
            throw SigstoreError.tlogBodyMismatch("unsupported entry \(kind) \(version) for this bundle content")
        }
    }

    // MARK: kinds

    static func hashedRekordV001(_ spec: JSONValue, content: SigstoreBundle.Content, signer: Signer, artifact: Artifact?) throws {
        let sig = object(spec["signature"])
        let hash = object(spec["data"]?["hash"])
        guard let content64 = sig?["content"]?.stringValue, let logged = Encoding.base64(content64) else {
            throw SigstoreError.tlogBodyMismatch("hashedrekord has no signature")
        }
        guard logged == content.signature else { throw SigstoreError.tlogBodyMismatch("signature differs from the bundle's") }
        guard let pem = (sig?["publicKey"]?["content"]?.stringValue).flatMap(Encoding.base64) else {
            throw SigstoreError.tlogBodyMismatch("hashedrekord has no public key")
        }
        try matchPEM(pem, signer: signer)
        guard let alg = (hash?["algorithm"]?.stringValue).flatMap(HashAlgorithm.init(name:)),
              let value = (hash?["value"]?.stringValue).flatMap(Encoding.fromHex) else {
            throw SigstoreError.tlogBodyMismatch("hashedrekord has no artifact hash")
        }
        try matchDigest(alg, value, content: content, artifact: artifact)
    }

    static func hashedRekordV002(_ spec: JSONValue, content: SigstoreBundle.Content, signer: Signer, artifact: Artifact?) throws {
        guard let s = object(spec["hashedRekordV002"]) else { throw SigstoreError.tlogBodyMismatch("missing hashedRekordV002") }
        let sig = object(s["signature"])
        guard let logged = (sig?["content"]?.stringValue).flatMap(Encoding.base64) else {
            throw SigstoreError.tlogBodyMismatch("hashedrekord has no signature")
        }
        guard logged == content.signature else { throw SigstoreError.tlogBodyMismatch("signature differs from the bundle's") }
        try matchVerifierV2(object(sig?["verifier"]), signer: signer)
        let data = object(s["data"])
        guard let alg = (data?["algorithm"]?.stringValue).flatMap(HashAlgorithm.init(name:)),
              let value = (data?["digest"]?.stringValue).flatMap(Encoding.base64) else {
            throw SigstoreError.tlogBodyMismatch("hashedrekord has no artifact digest")
        }
        try matchDigest(alg, value, content: content, artifact: artifact)
    }

    static func dsseV001(_ spec: JSONValue, env: DSSEEnvelope, signer: Signer) throws {
        try matchPayloadHash(object(spec["payloadHash"]), hexValue: true, env: env)
        let sigs = objects(spec["signatures"])
        let ok = try sigs.contains { s in
            guard (s["signature"]?.stringValue).flatMap(Encoding.base64) == env.signatures[0].sig,
                  let pem = (s["verifier"]?.stringValue).flatMap(Encoding.base64) else { return false }
            try matchPEM(pem, signer: signer)
            return true
        }
        guard ok else { throw SigstoreError.tlogBodyMismatch("DSSE signature not recorded in the log entry") }
    }

    static func dsseV002(_ spec: JSONValue, env: DSSEEnvelope, signer: Signer) throws {
        guard let s = object(spec["dsseV002"]) else { throw SigstoreError.tlogBodyMismatch("missing dsseV002") }
        try matchPayloadHash(object(s["payloadHash"]), hexValue: false, env: env)
        let sigs = objects(s["signatures"])
        let ok = try sigs.contains { sig in
            guard (sig["content"]?.stringValue).flatMap(Encoding.base64) == env.signatures[0].sig else { return false }
            try matchVerifierV2(object(sig["verifier"]), signer: signer)
            return true
        }
        guard ok else { throw SigstoreError.tlogBodyMismatch("DSSE signature not recorded in the log entry") }
    }

    /// intoto 0.0.2 double-base64-encodes payload and signatures.
    static func intotoV002(_ spec: JSONValue, env: DSSEEnvelope, signer: Signer) throws {
        guard let c = object(spec["content"]), let e = object(c["envelope"]) else {
            throw SigstoreError.tlogBodyMismatch("intoto entry has no envelope")
        }
        try matchPayloadHash(object(c["payloadHash"]), hexValue: true, env: env)
        if let p = e["payload"]?.stringValue {
            let inner = Encoding.base64(p).flatMap { String(data: $0, encoding: .utf8) }.flatMap(Encoding.base64)
            guard inner == env.payload else { throw SigstoreError.tlogBodyMismatch("in-toto payload differs") }
        }
        guard (e["payloadType"]?.stringValue) == env.payloadType else { throw SigstoreError.tlogBodyMismatch("payload type differs") }
        let sigs = objects(e["signatures"])
        let ok = try sigs.contains { s in
            let sig = (s["sig"]?.stringValue).flatMap(Encoding.base64).flatMap { String(data: $0, encoding: .utf8) }.flatMap(Encoding.base64)
            guard sig == env.signatures[0].sig, let pem = (s["publicKey"]?.stringValue).flatMap(Encoding.base64) else { return false }
            try matchPEM(pem, signer: signer)
            return true
        }
        guard ok else { throw SigstoreError.tlogBodyMismatch("DSSE signature not recorded in the log entry") }
    }

    // MARK: helpers

    /// `value` when it is an object (as `as? [String: Any]` read the Foundation tree), else nil.
    static func object(_ value: JSONValue?) -> JSONValue? { value?.objectValue == nil ? nil : value }

    /// The elements of an array of objects (`as? [[String: Any]] ?? []`): empty unless every element is an object.
    static func objects(_ value: JSONValue?) -> [JSONValue] {
        guard let items = value?.arrayValue, items.allSatisfy({ $0.objectValue != nil }) else { return [] }
        return items
    }

    static func matchPayloadHash(_ h: JSONValue?, hexValue: Bool, env: DSSEEnvelope) throws {
        guard let alg = (h?["algorithm"]?.stringValue).flatMap(HashAlgorithm.init(name:)) else {
            throw SigstoreError.tlogBodyMismatch("missing payload hash")
        }
        let raw = hexValue ? (h?["value"]?.stringValue).flatMap(Encoding.fromHex) : (h?["digest"]?.stringValue).flatMap(Encoding.base64)
        guard raw == alg.hash(env.payload) else { throw SigstoreError.tlogBodyMismatch("payload hash differs from the envelope payload") }
    }

    /// The logged digest must be the artifact's (message signature) or PAE's (DSSE over hashedrekord v0.0.2).
    static func matchDigest(_ alg: HashAlgorithm, _ value: Data, content: SigstoreBundle.Content, artifact: Artifact?) throws {
        switch content {
        case .dsse(let env):
            guard value == alg.hash(env.pae) else { throw SigstoreError.tlogBodyMismatch("logged digest is not the DSSE PAE digest") }
        case .messageSignature(let digest, _):
            guard let artifact else {
                // No artifact (verify-tlog): the logged digest must still be the bundle's own message digest.
                if let (a, d) = digest, a == alg, d != value {
                    throw SigstoreError.tlogBodyMismatch("logged artifact digest differs from the bundle's message digest")
                }
                return
            }
            guard let d = artifact.digest(alg) else {
                throw SigstoreError.tlogBodyMismatch("log entry uses \(alg.rawValue) but only another digest of the artifact is known")
            }
            guard d == value else { throw SigstoreError.tlogBodyMismatch("logged artifact digest differs from the artifact") }
        }
    }

    static func matchPEM(_ pem: Data, signer: Signer) throws {
        guard let text = String(data: pem, encoding: .utf8), let block = Encoding.pemBlocks(text).first else {
            throw SigstoreError.tlogBodyMismatch("logged verifier is not PEM")
        }
        switch signer {
        case .certificate(let der):
            guard block.label == "CERTIFICATE", block.der == der else {
                throw SigstoreError.tlogBodyMismatch("logged certificate differs from the signing certificate")
            }
        case .publicKey(let key):
            guard block.label.hasSuffix("PUBLIC KEY"), let logged = try? PublicKey(der: block.der), logged.sameKey(as: key) else {
                throw SigstoreError.tlogBodyMismatch("logged public key differs from the verification key")
            }
        case .recorded:
            return
        }
    }

    static func matchVerifierV2(_ v: JSONValue?, signer: Signer) throws {
        switch signer {
        case .certificate(let der):
            guard (v?["x509Certificate"]?["rawBytes"]?.stringValue).flatMap(Encoding.base64) == der else {
                throw SigstoreError.tlogBodyMismatch("logged certificate differs from the signing certificate")
            }
        case .publicKey(let key):
            guard let raw = (v?["publicKey"]?["rawBytes"]?.stringValue).flatMap(Encoding.base64),
                  let logged = try? PublicKey(der: raw), logged.sameKey(as: key) else {
                throw SigstoreError.tlogBodyMismatch("logged public key differs from the verification key")
            }
        case .recorded:
            return
        }
    }
}
