// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "inferbench",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "inferbench", targets: ["inferbench"]),
        .library(name: "InferbenchCore", targets: ["InferbenchCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.90.0"),
    ],
    targets: [
        .target(
            name: "InferbenchCore",
            dependencies: [
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            plugins: [.plugin(name: "EmbedWorker")]
        ),
        .executableTarget(
            name: "inferbench",
            dependencies: [
                "InferbenchCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Turns python/inferbench_worker/*.py into Swift string literals so that a release
        // binary carries its worker and runs alone beside any Python with PyTorch.
        .executableTarget(name: "embed-worker", path: "Sources/embed-worker"),
        .plugin(
            name: "EmbedWorker",
            capability: .buildTool(),
            dependencies: ["embed-worker"]
        ),
        // GRDB directly too: the store tests build stores at an older schema version to migrate;
        // NIO for a loopback HTTP server that the target's connection pool is tested against.
        // Fixtures/transcripts are read through #filePath (ProtocolTranscriptTests), not bundled.
        .testTarget(
            name: "InferbenchCoreTests",
            dependencies: [
                "InferbenchCore", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            exclude: ["Fixtures"]),
        .testTarget(name: "EndToEndTests", dependencies: ["InferbenchCore"]),
    ]
)
