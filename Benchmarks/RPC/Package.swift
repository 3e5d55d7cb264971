// swift-tools-version: 6.1
// RPC-layer benchmark: the rival server for ../rpc-run, grpc.testing.TestService on grpc-swift-2
// and its NIO HTTP/2 transport, to be measured against the root package's interop-server.
// A separate package so that neither the root package nor the codec benchmark depends on gRPC.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6)
]

let package = Package(
    name: "AgentplaneRPCBenchmark",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "grpc-swift-server", targets: ["GRPCSwiftServer"])
    ],
    dependencies: [
        .package(url: "https://github.com/grpc/grpc-swift-2", exact: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", exact: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", exact: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
    ],
    targets: [
        // Generated/ holds protoc-gen-swift's and protoc-gen-grpc-swift-2's code for
        // ../../proto/grpc/testing/*.proto, written once by scripts/generate and committed.
        .executableTarget(
            name: "GRPCSwiftServer",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings)
    ]
)
