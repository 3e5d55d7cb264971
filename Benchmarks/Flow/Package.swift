// swift-tools-version: 6.1
// Flow engine benchmark: FlowEngine's per-node overhead on a 100-node linear flow, without a
// checkpointer and with one that saves every step to Redis, plus a 1,000-runs-in-parallel load;
// ../flow-run runs it beside LangGraph (langgraph_bench.py) and prints both in one table.
// A separate package so that the root package's build is not affected; it depends on nothing but
// the root package.
import PackageDescription

let package = Package(
    name: "AgentplaneFlowBenchmark",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "FlowBenchmark", targets: ["FlowBenchmark"])
    ],
    dependencies: [
        // Named, so that targets refer to it as "Agentplane" whatever the checkout's folder is called
        // (a path dependency's identity is its folder name).
        .package(name: "Agentplane", path: "../.."),
        .package(path: "../Support"),
    ],
    targets: [
        .executableTarget(
            name: "FlowBenchmark",
            dependencies: [
                .product(name: "BenchmarkSupport", package: "Support"),
                .product(name: "FlowEngine", package: "Agentplane"),
                .product(name: "RuntimeRedis", package: "Agentplane"),
            ],
            swiftSettings: [
                .swiftLanguageMode(.v6),
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("InternalImportsByDefault"),
            ])
    ]
)
