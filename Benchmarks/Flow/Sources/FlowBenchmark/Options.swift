import BenchmarkSupport
import Foundation

/// The command line: what to measure and how much.
struct Options {
    /// `single` runs (a) and (b), `parallel` runs (c), `all` both.
    var mode = "all"
    /// Nodes of the flow of (a) and (b).
    var nodes = 100
    /// Timed runs of (a).
    var runs = 3_000
    /// Timed runs of (b).
    var redisRuns = 300
    /// Untimed runs of (a) first (a quarter as many for the other measurements).
    var warmup = 200
    /// Runs started at once in (c).
    var parallel = 1_000
    /// Nodes of the flow of (c).
    var parallelNodes = 10
    /// Timed rounds of (c), after one untimed.
    var rounds = 3
    /// The Redis server of (b) and (c).
    var redisURL = ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:56379/0"

    /// Reads `arguments` (without the program name); a bad flag ends the program.
    init(_ arguments: [String]) {
        var arguments = arguments[...]
        while let flag = arguments.popFirst() {
            guard let value = arguments.popFirst() else { fail("\(flag) needs a value") }
            switch flag {
            case "--mode": mode = value
            case "--nodes": nodes = Int(value) ?? 0
            case "--runs": runs = Int(value) ?? 0
            case "--redis-runs": redisRuns = Int(value) ?? 0
            case "--warmup": warmup = Int(value) ?? -1
            case "--parallel": parallel = Int(value) ?? 0
            case "--parallel-nodes": parallelNodes = Int(value) ?? 0
            case "--rounds": rounds = Int(value) ?? 0
            case "--redis-url": redisURL = value
            default: fail("unknown flag \(flag); see the comment at the top of FlowBenchmark.swift")
            }
        }
        guard ["single", "parallel", "all"].contains(mode) else { fail("--mode is single, parallel or all") }
        guard nodes > 0, runs > 0, redisRuns > 0, warmup >= 0, parallel > 0, parallelNodes > 0, rounds > 0 else {
            fail("counts must be positive")
        }
    }
}
