// swift-tools-version:6.1
//
// fluxtel benchmarks: a separate package so CI (which builds the root package) never builds them.
// Run everything with `benchmarks/run`; see benchmarks/README.md.
//
// Why plain executables instead of ordo-one/benchmark: each benchmark prints its own figures as one
// JSON object (records/s, MB/s, allocations per record, ratios against zlib measured in the same
// process), and `benchmarks/run` aggregates repeated runs into results/latest.json. That needs no
// extra dependency (nothing to fetch, nothing that builds jemalloc), keeps the JSON schema ours,
// and lets a benchmark be any executable — Swift, C or Python — added with one line in `run`.
// Allocation counts come from CMallocCount, a 60-line malloc interposer (glibc `__libc_malloc`).
import PackageDescription

let package = Package(
    name: "fluxtel-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "fluxtel", path: ".."),
        // The root package's own dependencies (same versions), for prom-bench's loopback server.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
    ],
    targets: [
        // Counts malloc/calloc/realloc/posix_memalign/aligned_alloc/memalign calls process-wide.
        .target(name: "CMallocCount"),
        // zlib called directly from C: the "zlib's own speed" reference for the gzip figures.
        .target(name: "CZlibRef", linkerSettings: [.linkedLibrary("z")]),
        // Timing, statistics and JSON output shared by the Swift benchmarks.
        .target(name: "BenchSupport", dependencies: ["CMallocCount"]),
        .executableTarget(
            name: "encode-bench",
            dependencies: [
                "BenchSupport", "CMallocCount", "CZlibRef",
                .product(name: "OTLPWire", package: "fluxtel"),
                .product(name: "Compression", package: "fluxtel"),
            ],
            path: "Sources/EncodeBench"
        ),
        // The Prometheus receiver (issue 3): parse / convert throughput and CPU per scrape over loopback.
        .executableTarget(
            name: "prom-bench",
            dependencies: [
                "BenchSupport",
                .product(name: "PrometheusReceiver", package: "fluxtel"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPClient", package: "fluxtel"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/PromBench"
        ),
    ],
    swiftLanguageModes: [.v6]
)
