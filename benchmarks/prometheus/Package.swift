// swift-tools-version:6.1
//
// The Prometheus receiver's benchmark (issue 3, acceptance 5), a package of its own so that CI never
// builds it: `swift run -c release --package-path benchmarks/prometheus PromBench`.
import PackageDescription

let package = Package(
    name: "PromBench",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "fluxtel", path: "../.."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
    ],
    targets: [
        .executableTarget(
            name: "PromBench",
            dependencies: [
                .product(name: "PrometheusReceiver", package: "fluxtel"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPClient", package: "fluxtel"),
                .product(name: "Logging", package: "swift-log"),
            ]
        )
    ],
    swiftLanguageModes: [.v6]
)
