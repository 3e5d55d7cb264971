// swift-tools-version: 6.1
// Scenario benchmark: the support-agent scenario against the running platform (six services as
// processes, started by scripts/platform), driven through control's ConversationService over
// gRPC: time to the first streamed item and to the final answer, p50 / p99 / mean per path (KB
// answer, ticket creation) at 1, 16 and 64 concurrent conversations, and where the time of one
// message goes (per-node durations from the run's events, per-service RPC time from /metrics).
// ../scenario-run brings the platform up, runs it and takes the platform down.
// A separate package so that the root package's build is not affected; it depends on nothing but
// the root package.
import PackageDescription

let package = Package(
    name: "AgentplaneScenarioBenchmark",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ScenarioBenchmark", targets: ["ScenarioBenchmark"])
    ],
    dependencies: [
        // Named, so that targets refer to it as "Agentplane" whatever the checkout's folder is called
        // (a path dependency's identity is its folder name).
        .package(name: "Agentplane", path: "../.."),
        .package(path: "../Support"),
    ],
    targets: [
        .executableTarget(
            name: "ScenarioBenchmark",
            dependencies: [
                .product(name: "BenchmarkSupport", package: "Support"),
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
