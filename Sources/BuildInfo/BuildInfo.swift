import CNghttp2
import COpenSSL

/// What this binary is: sealgate's version, the commit and time it was built from (stamped by Plugins/BuildStamp),
/// the Swift compiler that built it, and the OpenSSL and nghttp2 it runs with — asked of the libraries at run time,
/// since the dynamically linked ones are what serve TLS and HTTP/2, whatever the headers said at build time.
public struct BuildInfo: Sendable, Codable, Equatable {
    /// The release; the chart's appVersion and the deploy/ image tag name the same.
    public static let release = "0.1.0"

    public var version: String
    public var commit: String
    public var buildDate: String
    public var swift: String
    public var openssl: String
    public var nghttp2: String

    public static let current = BuildInfo(
        version: release, commit: BuildStamp.commit, buildDate: BuildStamp.date, swift: BuildStamp.swiftVersion,
        openssl: OpenSSL_version(Int32(OPENSSL_VERSION)).map { String(cString: $0) } ?? "unknown",
        nghttp2: nghttp2_version(0).flatMap { $0.pointee.version_str }.map { String(cString: $0) } ?? "unknown")

    /// `sealgate version` and `--version`.
    public var text: String {
        """
        sealgate \(version)
        commit:  \(commit)
        built:   \(buildDate)
        swift:   \(swift)
        openssl: \(openssl)
        nghttp2: \(nghttp2)
        """
    }

    /// The `sealgate_build_info` gauge's labels (Prometheus' build_info convention: the value is always 1).
    public var labels: [(String, String)] {
        [("version", version), ("commit", commit), ("build_date", buildDate), ("swift_version", swift),
         ("openssl_version", openssl), ("nghttp2_version", nghttp2)]
    }
}
