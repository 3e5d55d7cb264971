// swift-tools-version: 6.1
// What the benchmark packages share: timing summaries (p50 / p99 / mean), unit conversions,
// number formatting and progress output. A package of its own so that each benchmark package
// (Flow, KBSearch, Scenario) stays separate from the others and from the root package's build.
import PackageDescription

let package = Package(
    name: "AgentplaneBenchmarkSupport",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "BenchmarkSupport", targets: ["BenchmarkSupport"])
    ],
    targets: [
        .target(
            name: "BenchmarkSupport",
            swiftSettings: [
                .swiftLanguageMode(.v6),
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("InternalImportsByDefault"),
            ])
    ]
)
