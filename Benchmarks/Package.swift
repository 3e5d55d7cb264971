// swift-tools-version: 6.1
// Codec benchmarks: our protobuf-c backed RPCModels against swift-protobuf, on the same contract
// messages. A separate package so that the root package does not depend on swift-protobuf.
// Build and run with ./run (release, pinned to one core).
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6)
]

let package = Package(
    name: "AgentplaneBenchmarks",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "CodecBenchmark", targets: ["CodecBenchmark"])
    ],
    dependencies: [
        // Named, so that targets refer to it as "Agentplane" whatever the checkout's folder is called
        // (a path dependency's identity is its folder name).
        .package(name: "Agentplane", path: ".."),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
    ],
    targets: [
        // swift-protobuf's generated code for proto/agentplane/v1/{common,control}.proto,
        // written once by scripts/generate-swift-protobuf and committed.
        .target(
            name: "SwiftProtobufModels",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "CodecBenchmark",
            dependencies: [
                "SwiftProtobufModels",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "RPCModels", package: "Agentplane"),
            ],
            swiftSettings: swiftSettings),
    ]
)
