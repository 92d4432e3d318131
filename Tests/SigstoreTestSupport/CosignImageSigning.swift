import Crypto
import Foundation
import SigstoreVerify

/// One cosign OCI layer: media type, blob bytes and layer annotations. Fields are mutable for tamper tests.
public struct CosignLayer: Sendable {
    public var mediaType: String
    public var bytes: Data
    public var annotations: [String: String]
    public init(mediaType: String, bytes: Data, annotations: [String: String]) {
        self.mediaType = mediaType; self.bytes = bytes; self.annotations = annotations
    }
    /// As `TestImages.Layer` / `pushAttachment` wants it.
    public var tuple: (mediaType: String, bytes: [UInt8], annotations: [String: String]) { (mediaType, Array(bytes), annotations) }
}

public enum CosignMediaTypes {
    public static let simpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json"
    public static let dsseEnvelope = "application/vnd.dsse.envelope.v1+json"
    public static let bundleV03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
}

/// cosign-format signatures and attestations made by the test Sigstore (no registry I/O here).
extension TestSigstore {
    /// `cosign sign`: simple-signing payload for `digest`, its signature and the cosign annotations
    /// (signature, certificate + chain when keyless, Rekor bundle when `o.tlog`, RFC 3161 when `o.rfc3161`).
    public func cosignSignatureLayer(digest: String, dockerReference: String, annotations: [String: String] = [:], _ o: Options) -> CosignLayer {
        let payload = CosignSimpleSigningPayload.encode(dockerReference: dockerReference, manifestDigest: digest, annotations: annotations)
        let signed = signBlob(payload, o)
        return CosignLayer(mediaType: CosignMediaTypes.simpleSigning, bytes: payload,
                           annotations: cosignAnnotations(signed, signatureAnnotation: signed.signature.base64EncodedString(), o: o,
                                                          timestamped: signed.signature))
    }

    /// `cosign attest`: a DSSE envelope over `statement` (an in-toto statement), logged as a dsse entry,
    /// with an empty signature annotation and the RFC 3161 timestamp over the envelope, as cosign writes them.
    public func cosignAttestationLayer(statement: Data, _ o: Options) -> CosignLayer {
        var noTSA = o
        noTSA.rfc3161 = false
        let signed = signDSSE(payload: statement, noTSA)
        let env = try! JSONSerialization.data(withJSONObject: signed.envelope!.jsonObject(), options: [.sortedKeys])
        var withTSA = signed
        withTSA.rfc3161Timestamp = o.rfc3161 ? tsa.timestamp(env, at: o.signingTime) : nil
        return CosignLayer(mediaType: CosignMediaTypes.dsseEnvelope, bytes: env,
                           annotations: cosignAnnotations(withTSA, signatureAnnotation: "", o: o, timestamped: env))
    }

    func cosignAnnotations(_ s: Signed, signatureAnnotation: String, o: Options, timestamped: Data) -> [String: String] {
        var a: [String: String] = [CosignAnnotation.signature: signatureAnnotation]
        if let cert = s.certificate {
            a[CosignAnnotation.certificate] = PEM.certificate(cert)
            a[CosignAnnotation.chain] = ((o.issuingCA ?? fulcio).chain).map(PEM.certificate).joined()
        }
        if let b = s.cosignRekorBundle { a[CosignAnnotation.bundle] = String(decoding: b, as: UTF8.self) }
        if let ts = s.rfc3161Timestamp {
            let obj = ["SignedRFC3161Timestamp": ts.base64EncodedString()]
            a[CosignAnnotation.rfc3161Timestamp] = String(decoding: try! JSONSerialization.data(withJSONObject: obj), as: UTF8.self)
        }
        return a
    }

    /// An in-toto statement (v1, or v0.1 with `v01`) about `digest` (`sha256:<hex>`).
    public static func imageStatement(name: String, digest: String, predicateType: String, predicate: Any, v01: Bool = false) -> Data {
        let obj: [String: Any] = [
            "_type": v01 ? "https://in-toto.io/Statement/v0.1" : "https://in-toto.io/Statement/v1",
            "subject": [["name": name, "digest": ["sha256": String(digest.dropFirst("sha256:".count))]]],
            "predicateType": predicateType, "predicate": predicate,
        ]
        return try! JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    /// Small but realistic predicates.
    public static var slsaV1Predicate: [String: Any] { [
        "buildDefinition": ["buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
                            "externalParameters": ["workflow": ["ref": "refs/heads/main", "repository": "https://github.com/sealgate/test"]]],
        "runDetails": ["builder": ["id": "https://github.com/sealgate/test/.github/workflows/release.yml@refs/heads/main"]],
    ] }
    public static var spdxPredicate: [String: Any] { [
        "spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "sealgate-test-image", "dataLicense": "CC0-1.0",
        "packages": [["SPDXID": "SPDXRef-Package-openssl", "name": "openssl", "versionInfo": "3.0.13"]],
    ] }
    public static var cycloneDXPredicate: [String: Any] { [
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "components": [["type": "library", "name": "zlib", "version": "1.3.1"]],
    ] }
}

/// "Sign an image in a registry, cosign-style": signatures and attestations for an image digest, written
/// through two closures (see `TestImages.cosignSink` in RegistryTestSupport, which implements them with
/// the registry client) either in the cosign tag scheme (`sha256-<hex>.sig` / `.att`) or as Sigstore
/// bundle v0.3 referrers (fallback tag schema).
///
///     let sigstore = TestSigstore()
///     let sink = TestImages.cosignSink(client, registry: registry.host, repository: "app")
///     let signer = CosignImageSigner(sigstore: sigstore, appendTagLayers: sink.appendTagLayers, pushReferrer: sink.pushReferrer)
///     try signer.sign(digest: image.digest, reference: "\(registry.host)/app", options: sigstore.options(at: Date()))
///     try signer.attest(digest: image.digest, reference: "\(registry.host)/app", predicateType: "https://slsa.dev/provenance/v1",
///                       predicate: TestSigstore.slsaV1Predicate, options: sigstore.options(at: Date()))
///     // verify with: trusted root sigstore.trustedRootJSON(), identity TestIdentity.githubWorkflow
public struct CosignImageSigner: Sendable {
    public typealias Layer = (mediaType: String, bytes: [UInt8], annotations: [String: String])
    public let sigstore: TestSigstore
    let appendTagLayers: @Sendable (_ digest: String, _ suffix: String, _ layers: [Layer]) throws -> Void
    let pushReferrer: @Sendable (_ subject: String, _ subjectMediaType: String, _ subjectSize: Int, _ artifactType: String,
                                 _ layer: Layer, _ annotations: [String: String]) throws -> Void

    public init(sigstore: TestSigstore,
                appendTagLayers: @escaping @Sendable (_ digest: String, _ suffix: String, _ layers: [Layer]) throws -> Void,
                pushReferrer: @escaping @Sendable (_ subject: String, _ subjectMediaType: String, _ subjectSize: Int, _ artifactType: String,
                                                   _ layer: Layer, _ annotations: [String: String]) throws -> Void) {
        self.sigstore = sigstore
        self.appendTagLayers = appendTagLayers
        self.pushReferrer = pushReferrer
    }

    /// `cosign sign` (tag scheme). `payloadDigest` overrides the digest named in the payload (negative tests).
    @discardableResult
    public func sign(digest: String, reference: String, annotations: [String: String] = [:], options: TestSigstore.Options,
                     payloadDigest: String? = nil, tamper: ((inout CosignLayer) -> Void)? = nil) throws -> CosignLayer {
        var layer = sigstore.cosignSignatureLayer(digest: payloadDigest ?? digest, dockerReference: reference, annotations: annotations, options)
        tamper?(&layer)
        try appendTagLayers(digest, "sig", [layer.tuple])
        return layer
    }

    /// `cosign attest` (tag scheme): an in-toto statement about `subjectDigest ?? digest`.
    @discardableResult
    public func attest(digest: String, reference: String, predicateType: String, predicate: Any, options: TestSigstore.Options,
                       subjectDigest: String? = nil, v01: Bool = false, tamper: ((inout CosignLayer) -> Void)? = nil) throws -> CosignLayer {
        let statement = TestSigstore.imageStatement(name: reference, digest: subjectDigest ?? digest, predicateType: predicateType,
                                                    predicate: predicate, v01: v01)
        var layer = sigstore.cosignAttestationLayer(statement: statement, options)
        tamper?(&layer)
        try appendTagLayers(digest, "att", [layer.tuple])
        return layer
    }

    /// `cosign sign --new-bundle-format` style: a message-signature bundle over the image manifest bytes,
    /// attached as a referrer of `digest`.
    @discardableResult
    public func signBundle(digest: String, manifestBytes: Data, manifestMediaType: String, options: TestSigstore.Options) throws -> Data {
        let bundle = sigstore.signBlob(manifestBytes, options).bundleJSON
        try pushReferrer(digest, manifestMediaType, manifestBytes.count, CosignMediaTypes.bundleV03,
                         (CosignMediaTypes.bundleV03, Array(bundle), [:]), ["dev.sigstore.bundle.content": "message-signature"])
        return bundle
    }

    /// `cosign attest --new-bundle-format` style: a DSSE bundle over an in-toto statement, attached as a referrer.
    @discardableResult
    public func attestBundle(digest: String, reference: String, manifestMediaType: String, manifestSize: Int, predicateType: String,
                             predicate: Any, options: TestSigstore.Options, subjectDigest: String? = nil) throws -> Data {
        let statement = TestSigstore.imageStatement(name: reference, digest: subjectDigest ?? digest, predicateType: predicateType, predicate: predicate)
        let bundle = sigstore.signDSSE(payload: statement, options).bundleJSON
        try pushReferrer(digest, manifestMediaType, manifestSize, CosignMediaTypes.bundleV03,
                         (CosignMediaTypes.bundleV03, Array(bundle), [:]),
                         ["dev.sigstore.bundle.content": "dsse-envelope", "dev.sigstore.bundle.predicateType": predicateType])
        return bundle
    }
}
