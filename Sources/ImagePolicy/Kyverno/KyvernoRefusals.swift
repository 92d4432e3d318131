/// verifyImages values sealgate cannot honour: refused at load (and by `sealgate lint`), naming the field and why,
/// rather than accepted and ignored.
extension KyvernoPolicyParser {
    static func refuseUnsupportedValues(_ v: FieldReader, isV1: Bool) {
        let d = v.diags
        if isV1, v.bool("cosignOCI11") == true {
            d.error(v.at("cosignOCI11"), "cosignOCI11 is not supported: sealgate finds cosign signatures at sha256-<hex>.sig tags and Sigstore bundles among OCI referrers, not cosign's experimental OCI 1.1 referrer manifests")
        }
        if v.raw("useCache") == .bool(false) {
            d.error(v.at("useCache"), "useCache: false is not supported: sealgate's verification cache applies to every policy (serve --verification-cache-ttl 0 turns it off)")
        }
    }
}
