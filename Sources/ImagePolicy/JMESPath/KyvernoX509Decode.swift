import Foundation
import SwiftASN1
import X509

/// Kyverno's `x509_decode(pem)`: the certificate as Go's `encoding/json` renders `x509.Certificate`, for the fields
/// policies read (Subject/Issuer names, validity, serial, key usages, constraints, SANs, key IDs, algorithms, Raw).
/// Go's conventions are kept: nil slices are `null`, byte slices base64, times RFC 3339, enums as Go's integers.
/// Not rendered: PublicKey (Go's key structs), Extensions, policy and name-constraint fields.
enum KyvernoX509Decode {
    static func decode(_ pem: String) throws -> JSONValue {
        let cert = try Certificate(pemEncoded: pem)
        var o: [String: JSONValue] = [:]
        var der = DER.Serializer()
        try der.serialize(cert)
        o["Raw"] = .string(Data(der.serializedBytes).base64EncodedString())
        o["Signature"] = bytes(Data(cert.signature.rawRepresentation))
        o["Version"] = .number(cert.version == .v1 ? 1 : 3)
        o["SerialNumber"] = .number(cert.serialNumber.bytes.reduce(0.0) { $0 * 256 + Double($1) })
        o["Issuer"] = name(cert.issuer)
        o["Subject"] = name(cert.subject)
        o["NotBefore"] = .string(rfc3339(cert.notValidBefore))
        o["NotAfter"] = .string(rfc3339(cert.notValidAfter))
        o["SignatureAlgorithm"] = .number(Double(signatureAlgorithm(cert.signatureAlgorithm)))
        o["PublicKeyAlgorithm"] = .number(Double(publicKeyAlgorithm(cert.publicKey)))

        let ext = cert.extensions
        var usage = 0
        if let ku = try? ext.keyUsage {
            let bits = [ku.digitalSignature, ku.nonRepudiation, ku.keyEncipherment, ku.dataEncipherment, ku.keyAgreement,
                        ku.keyCertSign, ku.cRLSign, ku.encipherOnly, ku.decipherOnly]
            for (i, set) in bits.enumerated() where set { usage |= 1 << i }
        }
        o["KeyUsage"] = .number(Double(usage))
        let ekus = (try? ext.extendedKeyUsage).map { Array($0) } ?? []
        o["ExtKeyUsage"] = list(ekus.compactMap { extKeyUsage[$0].map { JSONValue.number(Double($0)) } })
        let bc = try? ext.basicConstraints
        o["BasicConstraintsValid"] = .bool(bc != nil)
        var isCA = false, maxPathLen = -1
        if case .isCertificateAuthority(let len)? = bc { isCA = true; maxPathLen = len ?? -1 }
        o["IsCA"] = .bool(isCA)
        o["MaxPathLen"] = .number(Double(maxPathLen))
        o["MaxPathLenZero"] = .bool(maxPathLen == 0)
        o["SubjectKeyId"] = ((try? ext.subjectKeyIdentifier) ?? nil).map { bytes(Data($0.keyIdentifier)) } ?? .null
        o["AuthorityKeyId"] = ((try? ext.authorityKeyIdentifier) ?? nil)?.keyIdentifier.map { bytes(Data($0)) } ?? .null

        var dns: [JSONValue] = [], emails: [JSONValue] = [], ips: [JSONValue] = [], uris: [JSONValue] = []
        for n in ((try? ext.subjectAlternativeNames) ?? nil).map(Array.init) ?? [] {
            switch n {
            case .dnsName(let s): dns.append(.string(s))
            case .rfc822Name(let s): emails.append(.string(s))
            case .uniformResourceIdentifier(let s): uris.append(uri(s))
            case .ipAddress(let b): ips.append(.string(ip(Array(b.bytes))))
            default: break
            }
        }
        o["DNSNames"] = list(dns)
        o["EmailAddresses"] = list(emails)
        o["IPAddresses"] = list(ips)
        o["URIs"] = list(uris)
        return .object(o)
    }

    static func list(_ a: [JSONValue]) -> JSONValue { a.isEmpty ? .null : .array(a) }
    static func bytes(_ d: Data) -> JSONValue { d.isEmpty ? .null : .string(d.base64EncodedString()) }

    static func rfc3339(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: d)
    }

    /// pkix.Name: the well-known attributes as lists (CommonName and SerialNumber as strings), every attribute in Names.
    static func name(_ dn: DistinguishedName) -> JSONValue {
        let fields: [(ASN1ObjectIdentifier, String)] = [
            ([2, 5, 4, 6], "Country"), ([2, 5, 4, 10], "Organization"), ([2, 5, 4, 11], "OrganizationalUnit"),
            ([2, 5, 4, 7], "Locality"), ([2, 5, 4, 8], "Province"), ([2, 5, 4, 9], "StreetAddress"), ([2, 5, 4, 17], "PostalCode"),
        ]
        let attributes = dn.flatMap { Array($0) }
        func values(_ oid: ASN1ObjectIdentifier) -> [String] {
            attributes.filter { $0.type == oid }.map { $0.value.description }
        }
        var o: [String: JSONValue] = [:]
        for (oid, key) in fields { o[key] = list(values(oid).map(JSONValue.string)) }
        o["SerialNumber"] = .string(values([2, 5, 4, 5]).last ?? "")
        o["CommonName"] = .string(values([2, 5, 4, 3]).last ?? "")
        o["Names"] = list(attributes.map { a in
            .object(["Type": .array(a.type.oidComponents.map { .number(Double($0)) }), "Value": .string(a.value.description)])
        })
        o["ExtraNames"] = .null
        return .object(o)
    }

    /// url.URL as Go encodes it.
    static func uri(_ s: String) -> JSONValue {
        let c = URLComponents(string: s)
        return .object([
            "Scheme": .string(c?.scheme ?? ""), "Opaque": .string(""), "User": .null, "Host": .string(c?.percentEncodedHost.map { h in c?.port.map { "\(h):\($0)" } ?? h } ?? ""),
            "Path": .string(c?.path ?? ""), "RawPath": .string(""), "OmitHost": .bool(false), "ForceQuery": .bool(false),
            "RawQuery": .string(c?.percentEncodedQuery ?? ""), "Fragment": .string(c?.fragment ?? ""), "RawFragment": .string(""),
        ])
    }

    static func ip(_ b: [UInt8]) -> String {
        if b.count == 4 { return b.map(String.init).joined(separator: ".") }
        var addr = in6_addr()
        withUnsafeMutableBytes(of: &addr) { $0.copyBytes(from: b.prefix(16)) }
        var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        return inet_ntop(AF_INET6, &addr, &buf, socklen_t(buf.count)).map { String(cString: $0) } ?? ""
    }

    /// Go's x509.ExtKeyUsage numbering.
    static let extKeyUsage: [ExtendedKeyUsage.Usage: Int] = [
        .any: 0, .serverAuth: 1, .clientAuth: 2, .codeSigning: 3, .emailProtection: 4, .timeStamping: 8, .ocspSigning: 9,
    ]

    /// Go's x509.SignatureAlgorithm numbering.
    static func signatureAlgorithm(_ a: Certificate.SignatureAlgorithm) -> Int {
        switch a {
        case .sha1WithRSAEncryption: 3
        case .sha256WithRSAEncryption: 4
        case .sha384WithRSAEncryption: 5
        case .sha512WithRSAEncryption: 6
        case .ecdsaWithSHA256: 10
        case .ecdsaWithSHA384: 11
        case .ecdsaWithSHA512: 12
        case .ed25519: 16
        default: 0
        }
    }

    /// Go's x509.PublicKeyAlgorithm numbering, from the SubjectPublicKeyInfo's algorithm OID.
    static func publicKeyAlgorithm(_ k: Certificate.PublicKey) -> Int {
        var spki = DER.Serializer()
        try? spki.serialize(k)
        let oid = try? DER.sequence(try DER.parse(spki.serializedBytes), identifier: .sequence) { n in
            defer { while n.next() != nil {} }  // the key bits
            return try DER.sequence(n.next() ?? (try DER.parse([0x05, 0x00])), identifier: .sequence) { a in
                defer { while a.next() != nil {} }  // the parameters
                return try ASN1ObjectIdentifier(derEncoded: &a)
            }
        }
        switch oid {
        case [1, 2, 840, 113549, 1, 1, 1]?: return 1
        case [1, 2, 840, 10045, 2, 1]?: return 3
        case [1, 3, 101, 112]?: return 4
        default: return 0
        }
    }
}
