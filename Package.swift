// swift-tools-version:6.1
//
// fluxtel: an OpenTelemetry agent for FluxCD. Modules follow the data flow of DESIGN.md:
//   sources (OTLPReceiver, PrometheusReceiver, FileLogReceiver, FluxObjects)
//     -> Processors -> Pipeline (-> PersistentQueue) -> Exporters
// Processors: resource attributes, splitting. Pipeline: batching, the in-flight budget, acknowledgements,
// over a queue in memory or, with a directory, PersistentQueue's segment files. Underneath: the OTLP wire
// format (OTLPWire), OTLP/JSON and the one JSON reader (OTLPJSON), gzip (Compression), configuration
// (FluxtelConfig), the agent's own telemetry (SelfTelemetry), and Kubernetes (the one API client: list,
// watch, discovery, Leases) under the sources that use it (pod discovery, FluxObjects). A thin `fluxtel`
// executable on top; Agent wires it.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "fluxtel",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fluxtel", targets: ["fluxtel"]),
        // Libraries for benchmarks/ (a separate package, so CI never builds the benchmark harness).
        .library(name: "OTLPWire", targets: ["OTLPWire"]),
        .library(name: "Compression", targets: ["Compression"]),
        .library(name: "FluxtelAgent", targets: ["Agent"]),
        .library(name: "PrometheusReceiver", targets: ["PrometheusReceiver"]),
        .library(name: "HTTPClient", targets: ["HTTPClient"]),
        .library(name: "FileLogReceiver", targets: ["FileLogReceiver"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
    ],
    targets: [
        // C libraries from Debian (zlib1g-dev, libyaml-dev), no vendored code.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CYAML", path: "Sources/CYAML", providers: [.apt(["libyaml-dev"])]),
        // glibc's <malloc.h> (mallopt), which Swift's Glibc module leaves out.
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),

        // OTLP protobuf wire format, by hand: writer, bounds-checked reader, the data model.
        .target(name: "OTLPWire", swiftSettings: swiftSettings),
        // OTLP/JSON (application/json) requests to protobuf bytes; JSON responses and google.rpc.Status.
        // Its strict, bounded JSON reader is the agent's one JSON reader: it also builds `JSONValue` trees.
        .target(name: "OTLPJSON", dependencies: ["OTLPWire"], swiftSettings: swiftSettings),
        // gzip / gunzip over zlib, with a hard cap on inflated size.
        .target(name: "Compression", dependencies: ["CZlib"], swiftSettings: swiftSettings),
        // YAML (libyaml) node tree with line/column, and the agent's configuration model.
        .target(name: "FluxtelConfig", dependencies: ["CYAML"], swiftSettings: swiftSettings),
        // Outbound HTTP/1.1 client on SwiftNIO (keep-alive pool, TLS/mTLS, deadlines, body limit).
        .target(
            name: "HTTPClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // The agent's own /metrics, /healthz, /readyz.
        .target(
            name: "SelfTelemetry",
            dependencies: [
                "OTLPWire",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // What happens to a chunk before batching: resource attributes (enrich) and splitting; the home
        // of the Flux log and trace processors.
        .target(name: "Processors", dependencies: ["OTLPWire", "FluxtelConfig"], swiftSettings: swiftSettings),
        // One batching pipeline: per-signal batches, the in-flight budget, export workers, acks, over a
        // queue protocol (in memory, or PersistentQueue).
        .target(
            name: "Pipeline",
            dependencies: [
                "OTLPWire", "SelfTelemetry", "FluxtelConfig",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The persistent queue (`processors.queue.directory`): CRC-checked segment files, group commit,
        // replay on start; the pipeline's queue on disk.
        .target(
            name: "PersistentQueue",
            dependencies: [
                "Pipeline", "OTLPWire", "SelfTelemetry", "FluxtelConfig", "CZlib",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Kubernetes API client under the sources that use it: in-cluster config, paged list, streamed
        // watch, list-then-watch with resume / re-list / back-off (Pipeline's TimerClock), API group
        // discovery, Leases with optimistic concurrency.
        .target(
            name: "Kubernetes",
            dependencies: [
                "HTTPClient", "OTLPJSON", "Pipeline",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Sources. A receiver depends on the pipeline's intake, never on an exporter.
        .target(
            name: "OTLPReceiver",
            dependencies: [
                "OTLPWire", "OTLPJSON", "Compression", "FluxtelConfig", "Pipeline", "SelfTelemetry",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Scrapes Prometheus / OpenMetrics text endpoints (static targets, Kubernetes pod discovery),
        // parses on bytes and writes OTLP metrics straight into the pipeline.
        // Flux objects from the Kubernetes API: resource state (`gotk_resource_info`), Events as logs.
        .target(
            name: "FluxObjects", dependencies: ["OTLPWire", "OTLPJSON", "FluxtelConfig", "Kubernetes", "Processors"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PrometheusReceiver",
            dependencies: [
                "OTLPWire", "Compression", "Pipeline", "SelfTelemetry", "FluxtelConfig", "Kubernetes", "OTLPJSON",
                .product(name: "Prometheus", package: "swift-prometheus"),
                "HTTPClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Tails the controllers' pod log files (CRI, docker, raw), parses Flux's JSON, checkpoints on acknowledgement.
        .target(
            name: "FileLogReceiver",
            dependencies: [
                "OTLPWire", "FluxtelConfig", "Pipeline", "SelfTelemetry", "Kubernetes",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // otlp_http (HTTPClient) and debug exporters.
        .target(
            name: "Exporters",
            dependencies: [
                "OTLPWire", "Compression", "FluxtelConfig", "Pipeline", "SelfTelemetry",
                .product(name: "Prometheus", package: "swift-prometheus"),
                "HTTPClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Builds the services from a configuration and runs them in a ServiceGroup.
        .target(
            name: "Agent",
            dependencies: [
                "OTLPWire", "Compression", "FluxtelConfig", "Processors", "Pipeline", "PersistentQueue",
                "SelfTelemetry", "Exporters", "OTLPReceiver", "PrometheusReceiver", "Kubernetes", "FluxObjects",
                "FileLogReceiver",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "fluxtel",
            dependencies: [
                "Agent", "FluxtelConfig", "CMalloc",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings,
            // The toolchain links `--static-swift-stdlib` executables with `-export-dynamic`, which puts
            // ~22,000 symbols in the dynamic symbol table: 2.3 MB of binary and ≈ 1.5 MB of idle RSS
            // (the loader reads .dynsym/.dynstr/.gnu.hash). Nothing looks the executable's symbols up at
            // run time; the price is that a crash trace of the stripped binary shows addresses only.
            linkerSettings: [
                .unsafeFlags(["-Xlinker", "--no-export-dynamic"], .when(platforms: [.linux], configuration: .release))
            ]
        ),

        .testTarget(
            name: "FluxObjectsTests",
            dependencies: [
                "FluxObjects", "FluxtelConfig", "OTLPWire", "OTLPJSON", "Kubernetes", "Processors",
                "FluxtelTestSupport",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "OTLPWireTests", dependencies: ["OTLPWire", "FluxtelTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "OTLPJSONTests", dependencies: ["OTLPJSON", "OTLPWire", "FluxtelTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CompressionTests", dependencies: ["Compression", "FluxtelTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "FluxtelConfigTests", dependencies: ["FluxtelConfig", "FluxtelTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ProcessorsTests", dependencies: ["Processors", "OTLPWire", "FluxtelConfig", "FluxtelTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PipelineTests",
            dependencies: [
                "Pipeline", "OTLPWire", "SelfTelemetry", "FluxtelConfig", "FluxtelTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PersistentQueueTests",
            dependencies: [
                "PersistentQueue", "Pipeline", "OTLPWire", "SelfTelemetry", "FluxtelConfig", "FluxtelTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The test kit shared by the test targets: a scriptable OTLP/HTTP sink, `eventually` and the
        // time scale, the recording exporter, a manual clock, the seeded random generator, a fake
        // Kubernetes API server (list/watch semantics, discovery, Leases).
        .target(
            name: "FluxtelTestSupport",
            dependencies: [
                "Compression", "Pipeline", "OTLPWire", "OTLPJSON",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "KubernetesTests",
            dependencies: [
                "Kubernetes", "FluxtelTestSupport", "OTLPJSON", "Pipeline", "HTTPClient",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SelfTelemetryTests", dependencies: ["SelfTelemetry", "OTLPWire"], swiftSettings: swiftSettings),
        .testTarget(
            name: "HTTPClientTests",
            dependencies: [
                "HTTPClient", "FluxtelTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ExportersTests",
            dependencies: [
                "Exporters", "FluxtelTestSupport", "FluxtelConfig", "Pipeline", "OTLPWire", "Compression",
                "SelfTelemetry",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PrometheusReceiverTests",
            dependencies: [
                "PrometheusReceiver", "FluxtelTestSupport", "Pipeline", "OTLPWire", "Compression", "SelfTelemetry",
                "Kubernetes", "OTLPJSON", "FluxtelConfig",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                "HTTPClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "OTLPReceiverTests",
            dependencies: [
                "OTLPReceiver", "FluxtelConfig", "OTLPWire", "Compression", "Pipeline",
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FileLogReceiverTests",
            dependencies: [
                "FileLogReceiver", "Pipeline", "PersistentQueue", "FluxtelConfig", "OTLPWire", "SelfTelemetry",
                "Compression", "FluxtelTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Issue 6's fault-injection suite: the real binary, all three sources, a sink that fails on purpose.
        .testTarget(
            name: "FaultInjectionTests",
            dependencies: [
                "FluxtelTestSupport", "OTLPWire",
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AgentTests",
            dependencies: [
                "Agent", "FluxtelTestSupport", "FluxtelConfig", "OTLPWire", "Compression", "OTLPReceiver", "Pipeline",
                "PersistentQueue", "Processors",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets (scripts/fuzz). Only with FLUXTEL_FUZZ=1: a fuzz target does not link without
// `--sanitize fuzzer`, so it would break a plain `swift build`.
if Context.environment["FLUXTEL_FUZZ"] == "1" {
    package.targets += [
        .executableTarget(
            name: "FuzzProtobuf", dependencies: ["OTLPWire", "Processors"], path: "Fuzz/FuzzProtobuf",
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "FuzzJSON", dependencies: ["OTLPJSON", "OTLPWire"], path: "Fuzz/FuzzJSON",
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "FuzzPrometheus", dependencies: ["PrometheusReceiver", "OTLPWire"], path: "Fuzz/FuzzPrometheus",
            swiftSettings: swiftSettings),
        // FuzzLogLine and FuzzFluxJSON reach internal types (`@testable`: the fuzz build is a debug build).
        .executableTarget(
            name: "FuzzLogLine", dependencies: ["FileLogReceiver", "OTLPWire"], path: "Fuzz/FuzzLogLine",
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "FuzzFluxJSON", dependencies: ["FileLogReceiver", "OTLPJSON", "OTLPWire"], path: "Fuzz/FuzzFluxJSON",
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "FuzzConfig", dependencies: ["FluxtelConfig"], path: "Fuzz/FuzzConfig", swiftSettings: swiftSettings),
        // FuzzKubernetes: the Kubernetes answers (`@testable` for the watch line splitter), and NIO's HTTP
        // response decoder in an EmbeddedChannel for the chunked watch body.
        .executableTarget(
            name: "FuzzKubernetes",
            dependencies: [
                "Kubernetes", "FluxObjects", "FluxtelConfig", "OTLPJSON", "OTLPWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Fuzz/FuzzKubernetes", swiftSettings: swiftSettings),
    ]
}
