// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "sealgate",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "sealgate", targets: ["sealgate"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // System libraries (pkg-config); shim headers wrap C macros Swift cannot import.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CNghttp2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
        .systemLibrary(name: "CLinux"),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Writes the git commit, build time and compiler version into BuildInfo before every build.
        .plugin(name: "BuildStamp", capability: .buildTool()),
        // What this binary is: version, commit, build date, Swift, and the OpenSSL and nghttp2 it runs with.
        .target(name: "BuildInfo", dependencies: ["COpenSSL", "CNghttp2"], plugins: ["BuildStamp"]),

        .target(name: "HTTP2Server", dependencies: [
            "COpenSSL", "CNghttp2", "CLinux",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // What every layer shares and nothing else: JSON values, YAML documents, Deadline and the monotonic clock, metric handles.
        .target(name: "SealgateCore", dependencies: [.product(name: "Yams", package: "Yams"), .product(name: "Metrics", package: "swift-metrics")]),
        // HTTP/1.1 client over OpenSSL (pooled, deadlines, TLS options), used by Registry, KubernetesAPI and TUF.
        .target(name: "HTTP1Client", dependencies: ["SealgateCore", "COpenSSL", "CLinux"]),
        .target(name: "ImageReference"),
        .target(name: "Registry", dependencies: [
            "SealgateCore", "HTTP1Client", "ImageReference", "COpenSSL", "CLinux",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // Cloud registries' token exchanges (ECR over STS and SigV4, Artifact Registry/GCR, ACR, GHCR) as Registry providers.
        .target(name: "RegistryCredentials", dependencies: [
            "Registry", "HTTP1Client", "SealgateCore",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "SigstoreVerify", dependencies: [
            "SealgateCore",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "X509", package: "swift-certificates"),
        ], resources: [.copy("Resources/trusted_root.json")]),
        .target(name: "ImagePolicy", dependencies: [
            "SealgateCore", "ImageReference", "CEL",
            .product(name: "Yams", package: "Yams"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "X509", package: "swift-certificates"),
        ]),
        // Sigstore trusted roots kept current over TUF (mirrors, serialized mirrorFS repositories, last good offline).
        .target(name: "SigstoreTUF", dependencies: [
            "TUF", "SigstoreVerify", "CZlib",
            .product(name: "Crypto", package: "swift-crypto"),
        ], resources: [.copy("Resources/root.json")]),
        // cosign-compatible image verification: registry attachments checked with SigstoreVerify.
        .target(name: "ImageVerification", dependencies: [
            "SealgateCore", "ImageReference", "Registry", "SigstoreVerify", "SigstoreTUF", "TUF", "ImagePolicy", "Notary",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The decision engine: policy store, verification cache, the per-image pipeline under one deadline.
        .target(name: "Engine", dependencies: [
            "SealgateCore", "ImagePolicy", "ImageReference", "Registry",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        .target(name: "Admission", dependencies: [
            "SealgateCore", "Engine", "ImagePolicy", "ImageReference", "Registry",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // `sealgate test` / `apply`: kyverno-test files, rule results, PolicyReports (pure; the engine runs in sealgate).
        .target(name: "PolicyTesting", dependencies: [
            "SealgateCore", "Admission", "ImagePolicy",
            .product(name: "Yams", package: "Yams"),
        ]),
        // Kubernetes API client (list/watch, secrets, events) and the cluster policy source feeding PolicyStore.
        .target(name: "KubernetesAPI", dependencies: [
            "SealgateCore", "HTTP1Client", "Registry", "ImagePolicy", "Admission",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // In-cluster audit: workloads from list/watch through the admission engine into PolicyReports, one writer by Lease.
        .target(name: "BackgroundScan", dependencies: [
            "SealgateCore", "Engine", "Admission", "ImagePolicy", "ImageReference", "Registry", "KubernetesAPI", "PolicyTesting",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        // TUF client (specification 1.0 workflow): trust roots that keep themselves current from a repository.
        .target(name: "TUF", dependencies: [
            "HTTP1Client", "SealgateCore",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),
        // Docker Content Trust (Notary v1): trust data verified with the TUF pieces from a pinned root key, tag → signed digest.
        .target(name: "Notary", dependencies: [
            "TUF", "HTTP1Client", "Registry", "SealgateCore",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
            .product(name: "X509", package: "swift-certificates"),
        ]),
        // Common Expression Language: parser, macros, evaluator with cost limits, standard library and extensions.
        .target(name: "CEL", dependencies: ["SealgateCore"]),
        .executableTarget(name: "sealgate", dependencies: [
            "CEL", "SealgateCore", "HTTP2Server", "ImageReference", "Registry", "RegistryCredentials", "ImageVerification", "SigstoreVerify", "ImagePolicy", "Admission", "KubernetesAPI", "PolicyTesting", "TUF", "SigstoreTUF", "BackgroundScan", "Notary", "BuildInfo",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "X509", package: "swift-certificates"),
        ]),

        // Release-mode timings of the warm path's pieces (bench/micro; smoke-run by the tests).
        .executableTarget(name: "sealgate-microbench", dependencies: [
            "Admission", "ImagePolicy", "ImageReference", "SigstoreVerify",
            .product(name: "Logging", package: "swift-log"),
        ], path: "bench/micro"),
        // Cold-path timings: signed images in a loopback registry, verified by `sealgate serve` (bench/cold).
        .executableTarget(name: "sealgate-coldbench", dependencies: ["E2ESupport", "SigstoreTestSupport", "TestSupport"], path: "bench/cold",
                          exclude: ["delay_proxy.py"]),  // run by the benchmark as a separate process
        // Parser fuzzing: the targets and invariants (fuzz/targets), a seeded mutation fuzzer (fuzz/parsers; corpus in
        // fuzz/corpus; smoke-run by the tests) and a libFuzzer build of the same targets (fuzz/libfuzzer, fuzz/build-libfuzz.sh).
        .target(name: "FuzzTargets", dependencies: [
            "Admission", "ImagePolicy", "ImageReference", "Registry", "SigstoreVerify",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "fuzz/targets"),
        .executableTarget(name: "sealgate-fuzz", dependencies: ["FuzzTargets", "TestSupport"], path: "fuzz/parsers"),
        .executableTarget(name: "sealgate-libfuzz", dependencies: ["FuzzTargets"], path: "fuzz/libfuzzer"),

        // Test support: child processes, paths, TLS PKI, the loopback registry, `sealgate serve` and one-shot runs.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        // Test-only Sigstore signer: own CA, Rekor-like and CT-like keys, trusted_root.json writer.
        .target(name: "SigstoreTestSupport", dependencies: [
            "SigstoreVerify",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "X509", package: "swift-certificates"),
        ], path: "Tests/SigstoreTestSupport"),
        // Test images and cosign-style attachments pushed with our registry client.
        .target(name: "RegistryTestSupport", dependencies: ["Registry", "SigstoreTestSupport", "TestSupport"], path: "Tests/RegistryTestSupport"),
        // The end-to-end world (registry, PKI, test Sigstore, signed images, server) and AdmissionReview builders.
        .target(name: "E2ESupport", dependencies: ["Registry", "RegistryTestSupport", "SigstoreTestSupport", "TestSupport"], path: "Tests/E2ESupport"),
        // The Kubernetes API double (Tests/Fixtures/kube/fake_apiserver.py) and its objects.
        .target(name: "KubernetesTestSupport", dependencies: ["KubernetesAPI", "TestSupport"], path: "Tests/KubernetesTestSupport"),
        // The upstream CRDs' field paths and the docs/COMPATIBILITY.md rows, for the schema walk.
        .target(name: "SchemaWalkSupport", dependencies: ["ImagePolicy", "TestSupport"], path: "Tests/SchemaWalkSupport"),

        // Unit tests, one target per module, in process.
        .testTarget(name: "HTTP2ServerTests", dependencies: ["HTTP2Server", "TestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "HardeningTests", dependencies: ["HTTP2Server", "TestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "RegistryTestSupport", "TestSupport"]),
        // Cloud credential providers against loopback stand-ins of STS/ECR, the GCE metadata server and Google STS, AAD and ACR.
        .testTarget(name: "RegistryCredentialsTests", dependencies: ["RegistryCredentials", "Registry", "ImageReference", "SealgateCore", "TestSupport"]),
        .testTarget(name: "ImageVerificationTests", dependencies: [
            "ImageVerification", "ImagePolicy", "ImageReference", "Registry", "SigstoreVerify", "E2ESupport", "RegistryTestSupport", "SigstoreTestSupport", "TestSupport", "TUF",
        ]),
        .testTarget(name: "SealgateCoreTests", dependencies: ["SealgateCore", "TestSupport", .product(name: "Metrics", package: "swift-metrics")]),
        .testTarget(name: "ImageReferenceTests", dependencies: ["ImageReference", "TestSupport"]),
        .testTarget(name: "SigstoreVerifyTests", dependencies: ["SigstoreVerify", "SigstoreTestSupport", "TestSupport"]),
        .testTarget(name: "ImagePolicyTests", dependencies: ["ImagePolicy", "SchemaWalkSupport", "TestSupport"]),
        .testTarget(name: "AdmissionTests", dependencies: ["Admission", "ImagePolicy", "SealgateCore", "TestSupport"]),
        .testTarget(name: "PolicyTestingTests", dependencies: ["PolicyTesting", "TestSupport"]),
        .testTarget(name: "KubernetesAPITests", dependencies: [
            "KubernetesAPI", "Admission", "ImagePolicy", "Registry", "ImageReference", "KubernetesTestSupport", "TestSupport",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Background scan: leader election, report reconciliation, inventory and budget against the API double.
        .testTarget(name: "BackgroundScanTests", dependencies: [
            "BackgroundScan", "Admission", "ImagePolicy", "KubernetesAPI", "PolicyTesting", "KubernetesTestSupport", "TestSupport",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // TUF client: python-tuf repositories (Tests/Fixtures/tuf) and the public-good copy, served from loopback.
        // CEL: the cel-spec conformance files (../shared/testdata/cel-spec), cost limits, the `sealgate cel` CLI.
        .testTarget(name: "CELTests", dependencies: ["CEL", "TestSupport"]),
        .testTarget(name: "TUFTests", dependencies: ["TUF", "SealgateCore", "TestSupport", .product(name: "Crypto", package: "swift-crypto")]),
        // Notary v1 client: real notary-server/notary-signer (Debian notary) and hostile copies of their metadata.
        .testTarget(name: "NotaryTests", dependencies: ["Notary", "Registry", "TestSupport", "SealgateCore"]),
        // Sigstore trusted roots over TUF: hostile serialized repositories (the end-to-end path is in CLITests/Admission).
        .testTarget(name: "SigstoreTUFTests", dependencies: ["SigstoreTUF", "TestSupport"]),

        // The built `sealgate` binary driven from outside, by area (Tests/CLITests/*): serve, admission end to end,
        // explain, verify commands, conformance harnesses, test/apply/save, lint, cluster watches, registry commands,
        // the deployment artifacts run for real, the benchmark smoke run.
        .testTarget(name: "CLITests", dependencies: [
            "E2ESupport", "KubernetesTestSupport", "SchemaWalkSupport", "RegistryTestSupport", "SigstoreTestSupport", "TestSupport",
            "Registry", "SigstoreVerify", "SealgateCore",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
    ]
)
