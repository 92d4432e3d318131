import Foundation
@testable import Registry
import Testing

/// Manifests are read with JSONScanner now; JSONDecoder over the same members is the reference they must agree with.
@Suite struct ManifestWireTests {
    private struct Reference: Decodable, Equatable {
        var schemaVersion: Int?
        var mediaType: String?
        var config: Descriptor?
        var layers: [Descriptor]?
        var manifests: [Descriptor]?
        var subject: Descriptor?
        var artifactType: String?
        var annotations: [String: String]?
    }

    private func read(_ json: String) -> Reference? {
        guard let w = try? ManifestWire(bytes: Array(json.utf8)) else { return nil }
        return Reference(schemaVersion: w.schemaVersion, mediaType: w.mediaType, config: w.config, layers: w.layers, manifests: w.manifests,
                         subject: w.subject, artifactType: w.artifactType, annotations: w.annotations)
    }

    @Test func agreesWithJSONDecoder() {
        let d = #"{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:00","size":3}"#
        let samples = [
            #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":\#(d),"layers":[\#(d),\#(d)]}"#,
            #"{"schemaVersion":2,"config":\#(d),"layers":[{"mediaType":"m","digest":"sha256:01","size":10,"annotations":{"dev.cosignproject.cosign/signature":"MEU\u0041=","x":"é \"q\""}}],"annotations":{"a":"b"}}"#,
            #"{"schemaVersion":2,"manifests":[{"mediaType":"m","digest":"sha256:02","size":1,"platform":{"os":"linux","architecture":"arm64","variant":"v8","os.features":["x"]}}]}"#,
            #"{"schemaVersion":2,"config":\#(d),"layers":[],"subject":\#(d),"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json","extra":{"deep":[1,2,{"a":null}]}}"#,
            #"{"schemaVersion":2,"config":null,"layers":null,"annotations":null,"mediaType":null}"#,
            #"{"schemaVersion":2.0,"config":{"mediaType":"m","digest":"d","size":1e2}}"#,
            #" {"schemaVersion":1} "#,
            #"{}"#,
            // Refused by both: wrong types, missing required members, bad JSON.
            #"{"schemaVersion":"2"}"#,
            #"{"schemaVersion":2.5}"#,
            #"{"config":{"mediaType":"m","digest":"d"}}"#,
            #"{"config":{"mediaType":null,"digest":"d","size":1}}"#,
            #"{"layers":{}}"#,
            #"{"annotations":{"a":1}}"#,
            #"{"manifests":[{"mediaType":"m","digest":"d","size":1,"platform":{"os":"linux"}}]}"#,
            #"[]"#,
            #"{"schemaVersion":2"#,
            #"{"schemaVersion":2} x"#,
            "",
        ]
        for json in samples {
            let reference = try? JSONDecoder().decode(Reference.self, from: Data(json.utf8))
            #expect(read(json) == reference, "\(json)")
        }
    }

    @Test func aRepeatedMemberKeepsTheLast() {
        #expect(read(#"{"schemaVersion":1,"schemaVersion":2}"#)?.schemaVersion == 2)
    }

    @Test func manifestsStillParseThroughIt() throws {
        let json = #"{"schemaVersion":2,"config":{"mediaType":"c","digest":"sha256:00","size":2},"layers":[{"mediaType":"l","digest":"sha256:01","size":5}]}"#
        let m = try Manifest(bytes: Array(json.utf8), digest: "sha256:ff", contentType: nil)
        #expect(m.mediaType == MediaType.ociManifest && m.layers.map(\.digest) == ["sha256:01"] && m.config?.size == 2)
        #expect(throws: (any Error).self) { _ = try Manifest(bytes: Array("{".utf8), digest: "sha256:ff", contentType: nil) }
    }
}
