import Foundation
import SwiftASN1
import X509

/// An RFC 3161 TimeStampToken (CMS SignedData over a TSTInfo), read with SwiftASN1.
/// Accepts either a full TimeStampResp or a bare token (ContentInfo).
public struct RFC3161Timestamp: Sendable {
    static let signedDataOID: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 7, 2]
    static let tstInfoOID: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 9, 16, 1, 4]
    static let contentTypeAttr: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 9, 3]
    static let messageDigestAttr: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 9, 4]

    public enum SignerID: Sendable, Hashable {
        case issuerAndSerial(DistinguishedName, Certificate.SerialNumber)
        case subjectKeyIdentifier([UInt8])
    }

    public var genTime: Date
    public var imprintAlgorithm: HashAlgorithm
    public var imprint: Data
    public var embeddedCertificates: [Certificate]
    public var signerID: SignerID
    public var digestAlgorithm: HashAlgorithm
    /// Signed attributes re-encoded as a DER SET (what the TSA signed).
    public var signedAttributesDER: Data
    public var signature: Data
    /// Raw TSTInfo bytes and the messageDigest attribute binding them to the signature.
    var eContent: Data
    var messageDigest: Data
    var contentTypeAttribute: ASN1ObjectIdentifier?

    public init(der: Data) throws {
        do { try self.init(parsing: der) } catch let e as SigstoreError { throw e } catch {
            throw SigstoreError.malformedTimestamp("\(error)")
        }
    }

    private init(parsing der: Data) throws {
        let top = try DER.parse(Array(der))
        guard case .constructed(let topNodes) = top.content, let first = Array(topNodes).first else {
            throw SigstoreError.malformedTimestamp("not a SEQUENCE")
        }
        // TimeStampResp starts with PKIStatusInfo (a SEQUENCE); a bare ContentInfo starts with an OID.
        var contentInfo = top
        if first.identifier == .sequence {
            let nodes = Array(topNodes)
            let status = try DER.sequence(nodes[0], identifier: .sequence) { n in try Int(derEncoded: &n) }
            guard status == 0 || status == 1 else { throw SigstoreError.malformedTimestamp("TSA status \(status)") }
            guard nodes.count > 1 else { throw SigstoreError.malformedTimestamp("response has no token") }
            contentInfo = nodes[1]
        }
        let signedDataNode = try DER.sequence(contentInfo, identifier: .sequence) { n -> ASN1Node in
            let type = try ASN1ObjectIdentifier(derEncoded: &n)
            guard type == Self.signedDataOID else { throw SigstoreError.malformedTimestamp("not CMS SignedData") }
            return try DER.explicitlyTagged(&n, tagNumber: 0, tagClass: .contextSpecific) { $0 }
        }
        var certs: [Certificate] = []
        var signerInfos: [ASN1Node] = []
        var eContent = Data()
        try DER.sequence(signedDataNode, identifier: .sequence) { n in
            _ = try Int(derEncoded: &n)
            _ = n.next()  // digestAlgorithms
            eContent = try DER.sequence(n.next() ?? ASN1Node.missing, identifier: .sequence) { e -> Data in
                let type = try ASN1ObjectIdentifier(derEncoded: &e)
                guard type == Self.tstInfoOID else { throw SigstoreError.malformedTimestamp("content is not TSTInfo") }
                return try DER.explicitlyTagged(&e, tagNumber: 0, tagClass: .contextSpecific) { Data(try ASN1OctetString(derEncoded: $0).bytes) }
            }
            while let node = n.next() {
                if node.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific), case .constructed(let cs) = node.content {
                    certs = cs.compactMap { try? Certificate(derEncoded: $0) }
                } else if node.identifier == .set, case .constructed(let infos) = node.content {
                    signerInfos = Array(infos)
                }
            }
        }
        guard signerInfos.count == 1 else { throw SigstoreError.malformedTimestamp("expected one SignerInfo, got \(signerInfos.count)") }
        embeddedCertificates = certs
        self.eContent = eContent

        var sid: SignerID?
        var digestAlg: HashAlgorithm?
        var attrsDER = Data()
        var mdValue = Data()
        var ctAttr: ASN1ObjectIdentifier?
        var sig = Data()
        try DER.sequence(signerInfos[0], identifier: .sequence) { n in
            _ = try Int(derEncoded: &n)
            guard let sidNode = n.next() else { throw SigstoreError.malformedTimestamp("no signer identifier") }
            if sidNode.identifier == .sequence {
                sid = try DER.sequence(sidNode, identifier: .sequence) { s in
                    let dn = try DistinguishedName(derEncoded: s.next() ?? ASN1Node.missing)
                    // Raw INTEGER bytes: some TSAs emit serials with the top bit set, which strict parsers reject.
                    guard let node = s.next(), node.identifier == .integer, case .primitive(let serial) = node.content else {
                        throw SigstoreError.malformedTimestamp("signer serial number")
                    }
                    return .issuerAndSerial(dn, Certificate.SerialNumber(bytes: serial))
                }
            } else if sidNode.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
                let ski = try ASN1OctetString(derEncoded: sidNode, withIdentifier: sidNode.identifier)
                sid = .subjectKeyIdentifier(Array(ski.bytes))
            }
            digestAlg = try Self.hashAlgorithm(try AlgorithmIdentifierNode(derEncoded: &n).oid)
            guard let attrs = n.next(), attrs.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific),
                  case .constructed(let attrNodes) = attrs.content else {
                throw SigstoreError.malformedTimestamp("no signed attributes")
            }
            var ser = DER.Serializer()
            try ser.appendConstructedNode(identifier: .set) { c in
                for a in attrNodes { try c.serialize(ASN1Any(derEncoded: a)) }
            }
            attrsDER = Data(ser.serializedBytes)
            for a in attrNodes {
                try DER.sequence(a, identifier: .sequence) { an in
                    let type = try ASN1ObjectIdentifier(derEncoded: &an)
                    let values = try DER.set(of: ASN1Any.self, identifier: .set, nodes: &an)
                    guard values.count == 1 else { throw SigstoreError.malformedTimestamp("attribute with \(values.count) values") }
                    if type == Self.messageDigestAttr { mdValue = Data(try ASN1OctetString(asn1Any: values[0]).bytes) }
                    if type == Self.contentTypeAttr { ctAttr = try ASN1ObjectIdentifier(asn1Any: values[0]) }
                }
            }
            _ = try AlgorithmIdentifierNode(derEncoded: &n)  // signatureAlgorithm: the key decides the scheme
            sig = Data(try ASN1OctetString(derEncoded: &n).bytes)
            _ = n.next()  // unsigned attributes, ignored
        }
        guard let sid, let digestAlg else { throw SigstoreError.malformedTimestamp("unsupported signer identifier") }
        signerID = sid; digestAlgorithm = digestAlg; signedAttributesDER = attrsDER; signature = sig
        messageDigest = mdValue; contentTypeAttribute = ctAttr

        // TSTInfo: version, policy, messageImprint, serialNumber, genTime, ...
        (imprintAlgorithm, imprint, genTime) = try DER.sequence(try DER.parse(Array(eContent)), identifier: .sequence) { n in
            _ = try Int(derEncoded: &n)
            _ = try ASN1ObjectIdentifier(derEncoded: &n)
            let (alg, hashed) = try DER.sequence(n.next() ?? ASN1Node.missing, identifier: .sequence) { m in
                (try Self.hashAlgorithm(try AlgorithmIdentifierNode(derEncoded: &m).oid), Data(try ASN1OctetString(derEncoded: &m).bytes))
            }
            _ = n.next()  // serialNumber: not needed, and not always minimally encoded
            let time = try GeneralizedTime(derEncoded: &n)
            while n.next() != nil {}
            return (alg, hashed, Date(time))
        }
    }

    static func hashAlgorithm(_ oid: ASN1ObjectIdentifier) throws -> HashAlgorithm {
        switch oid {
        case [2, 16, 840, 1, 101, 3, 4, 2, 1]: return .sha256
        case [2, 16, 840, 1, 101, 3, 4, 2, 2]: return .sha384
        case [2, 16, 840, 1, 101, 3, 4, 2, 3]: return .sha512
        default: throw SigstoreError.unsupportedAlgorithm("digest algorithm \(oid)")
        }
    }

    func matches(_ cert: Certificate) -> Bool {
        switch signerID {
        case .issuerAndSerial(let dn, let serial): return cert.issuer == dn && cert.serialNumber == serial
        case .subjectKeyIdentifier(let ski):
            return (try? cert.extensions.subjectKeyIdentifier).flatMap { $0.map { Array($0.keyIdentifier) } } == ski
        }
    }
}

/// AlgorithmIdentifier read as OID plus ignored parameters.
struct AlgorithmIdentifierNode: DERImplicitlyTaggable {
    static var defaultIdentifier: ASN1Identifier { .sequence }
    var oid: ASN1ObjectIdentifier
    init(derEncoded root: ASN1Node, withIdentifier identifier: ASN1Identifier) throws {
        oid = try DER.sequence(root, identifier: identifier) { n in
            let o = try ASN1ObjectIdentifier(derEncoded: &n)
            _ = n.next()
            return o
        }
    }
    func serialize(into coder: inout DER.Serializer, withIdentifier identifier: ASN1Identifier) throws {
        try coder.appendConstructedNode(identifier: identifier) { try $0.serialize(oid) }
    }
}

extension ASN1Node {
    /// A node that fails any typed parse; used when a required element is absent.
    static var missing: ASN1Node { try! DER.parse([0x05, 0x00]) }
}

extension Date {
    init(_ t: GeneralizedTime) {
        var c = DateComponents()
        c.year = t.year; c.month = t.month; c.day = t.day; c.hour = t.hours; c.minute = t.minutes; c.second = t.seconds
        c.timeZone = TimeZone(identifier: "UTC")
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        self = (cal.date(from: c) ?? Date(timeIntervalSince1970: 0)).addingTimeInterval(t.fractionalSeconds)
    }
}
