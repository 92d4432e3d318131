import SealgateCore

/// The members of a manifest or index, read with `JSONScanner`: `JSONDecoder` spent more instructions on one
/// signature manifest (its annotations hold a certificate and a Rekor bundle) than a signature check. The rules of
/// the `Decodable` form it replaced: unknown members are skipped (still checked), null is absent for optional
/// members, a missing required member or one of the wrong type is an error; a repeated member keeps the last, as
/// Go's decoder (registries, cosign) does.
struct ManifestWire {
    var schemaVersion: Int?
    var mediaType: String?
    var config: Descriptor?
    var layers: [Descriptor]?
    var manifests: [Descriptor]?
    var subject: Descriptor?
    var artifactType: String?
    var annotations: [String: String]?

    init(bytes: [UInt8]) throws {
        var s = try JSONScanner(bytes)
        var wire = ManifestWire()
        try s.readObject { s, key in
            switch key {
            case "schemaVersion": wire.schemaVersion = try s.nullable { try $0.readInt() }
            case "mediaType": wire.mediaType = try s.nullable { try $0.readString() }
            case "config": wire.config = try s.nullable(Self.descriptor)
            case "layers": wire.layers = try s.nullable(Self.descriptors)
            case "manifests": wire.manifests = try s.nullable(Self.descriptors)
            case "subject": wire.subject = try s.nullable(Self.descriptor)
            case "artifactType": wire.artifactType = try s.nullable { try $0.readString() }
            case "annotations": wire.annotations = try s.nullable(Self.strings)
            default: try s.skipValue()
            }
        }
        try s.finish()
        self = wire
    }

    private init() {}

    static func descriptors(_ s: inout JSONScanner) throws -> [Descriptor] {
        var out: [Descriptor] = []
        try s.readArray { out.append(try descriptor(&$0)) }
        return out
    }

    static func descriptor(_ s: inout JSONScanner) throws -> Descriptor {
        var mediaType: String?, digest: String?, size: Int?, annotations: [String: String]?, artifactType: String?, platform: Platform?
        try s.readObject { s, key in
            switch key {
            case "mediaType": mediaType = try s.readString()
            case "digest": digest = try s.readString()
            case "size": size = try s.readInt()
            case "annotations": annotations = try s.nullable(strings)
            case "artifactType": artifactType = try s.nullable { try $0.readString() }
            case "platform": platform = try s.nullable(Self.platform)
            default: try s.skipValue()
            }
        }
        guard let mediaType, let digest, let size else { throw s.fail("a descriptor needs mediaType, digest and size") }
        return Descriptor(mediaType: mediaType, digest: digest, size: size, annotations: annotations, artifactType: artifactType, platform: platform)
    }

    static func platform(_ s: inout JSONScanner) throws -> Platform {
        var os: String?, architecture: String?, variant: String?
        try s.readObject { s, key in
            switch key {
            case "os": os = try s.readString()
            case "architecture": architecture = try s.readString()
            case "variant": variant = try s.nullable { try $0.readString() }
            default: try s.skipValue()
            }
        }
        guard let os, let architecture else { throw s.fail("a platform needs os and architecture") }
        return Platform(os: os, architecture: architecture, variant: variant)
    }

    static func strings(_ s: inout JSONScanner) throws -> [String: String] {
        var out: [String: String] = [:]
        try s.readObject { s, key in out[key] = try s.readString() }
        return out
    }
}

extension JSONScanner {
    /// An integer (JSONDecoder's Int also took integral values written with a fraction or exponent, as 2.0).
    fileprivate mutating func readInt() throws -> Int {
        let (text, integral) = try readNumber()
        if integral, let v = Int(text) { return v }
        guard !integral, let d = Double(text), let v = Int(exactly: d) else { throw fail("expected an integer") }
        return v
    }
}
