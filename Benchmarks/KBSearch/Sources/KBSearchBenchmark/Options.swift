import BenchmarkSupport
import Foundation

/// The command line: which sizes to measure, how many queries, and where the servers are.
struct Options {
    /// Chunks of the one tenant, one measurement per size, in order.
    var sizes = [1_000, 10_000, 100_000]
    /// Timed queries per search mode and size (the same queries for every mode).
    var queries = 200
    /// Untimed queries per mode before its timed ones.
    var warmup = 5
    /// Queries of the recall measurement (at sizes at or above the threshold).
    var recallQueries = 200
    /// Chunks from which the service uses the HNSW graph and in-memory BM25 (`KB_ANN_THRESHOLD`).
    var threshold = 20_000
    /// hnswlib's ef at search (`KB_ANN_EF_SEARCH`); nil: the service's default.
    var efSearch: Int?
    /// How long to wait for the HNSW graph to be built after the first search, in seconds.
    var graphTimeout = 900
    /// The project's PostgreSQL (`scripts/infra start`).
    var databaseURL =
        ProcessInfo.processInfo.environment["DATABASE_URL"] ?? "postgresql://postgres@127.0.0.1:55432/postgres"
    /// The project's Redis.
    var redisURL = ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:56379/0"

    /// Reads `arguments` (without the program name); a bad flag ends the program.
    init(_ arguments: [String]) {
        var arguments = arguments[...]
        while let flag = arguments.popFirst() {
            guard let value = arguments.popFirst() else { fail("\(flag) needs a value") }
            switch flag {
            case "--sizes":
                sizes = value.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) ?? 0 }
            case "--queries": queries = Int(value) ?? 0
            case "--warmup": warmup = Int(value) ?? -1
            case "--recall-queries": recallQueries = Int(value) ?? 0
            case "--threshold": threshold = Int(value) ?? 0
            case "--ef-search": efSearch = Int(value) ?? 0
            case "--graph-timeout": graphTimeout = Int(value) ?? 0
            case "--database-url": databaseURL = value
            case "--redis-url": redisURL = value
            default: fail("unknown flag \(flag); see the comment at the top of KBSearchBenchmark.swift")
            }
        }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 }) else { fail("--sizes takes positive chunk counts") }
        guard queries > 0, warmup >= 0, recallQueries > 0, threshold > 0, efSearch ?? 1 > 0, graphTimeout > 0 else {
            fail("counts must be positive")
        }
    }
}
