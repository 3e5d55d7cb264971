// swift-tools-version: 6.1
// KB search benchmark: the kb-search service run in-process (release) with a local embedder,
// driven through its RPCs over loopback gRPC: indexing throughput, then p50/p99 of lexical,
// vector and hybrid search at 1k, 10k and 100k chunks of one tenant, and the approximate index's
// recall@10 against the exact scan. ../kb-run builds and runs it.
// A separate package so that the root package's build is not affected; it depends on nothing but
// the root package.
import PackageDescription

let package = Package(
    name: "AgentplaneKBSearchBenchmark",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "KBSearchBenchmark", targets: ["KBSearchBenchmark"])
    ],
    dependencies: [
        // Named, so that targets refer to it as "Agentplane" whatever the checkout's folder is called
        // (a path dependency's identity is its folder name).
        .package(name: "Agentplane", path: "../.."),
        .package(path: "../Support"),
    ],
    targets: [
        .executableTarget(
            name: "KBSearchBenchmark",
            dependencies: [
                .product(name: "BenchmarkSupport", package: "Support"),
                .product(name: "KBSearch", package: "Agentplane"),
                .product(name: "Runtime", package: "Agentplane"),
                .product(name: "RuntimeSecurity", package: "Agentplane"),
                .product(name: "RuntimePostgres", package: "Agentplane"),
                .product(name: "RPCModels", package: "Agentplane"),
                .product(name: "RPCHTTP2", package: "Agentplane"),
            ],
            swiftSettings: [
                .swiftLanguageMode(.v6),
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("InternalImportsByDefault"),
            ])
    ]
)
