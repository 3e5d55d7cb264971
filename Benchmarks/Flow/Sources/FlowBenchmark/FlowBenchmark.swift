// Engine overhead of FlowEngine on a linear flow of `set` nodes (no I/O), in three measurements:
//   (a) µs per node, no checkpointer (and, for reference, with InMemoryCheckpointer)
//   (b) µs per step with RedisCheckpointer: every step saved to Redis in one pipelined round trip
//   (c) --parallel runs of a shorter flow started at once in a task group: runs/s and errors
// Each run is timed on its own; the results give p50, mean and p99 over the runs.
//
// Usage: FlowBenchmark [--mode single|parallel|all] [--nodes 100] [--runs 3000] [--redis-runs 300]
//                      [--warmup 200] [--parallel 1000] [--parallel-nodes 10] [--rounds 3]
//                      [--redis-url redis://127.0.0.1:56379/0]
// `single` runs (a) and (b), `parallel` runs (c); ../flow-run pins each to its cores.
// Lines starting with `metric ` are read by ../flow-run.

import BenchmarkSupport
import FlowEngine
import Foundation
import RuntimeRedis

@main
struct FlowBenchmark {
    let options: Options
    let pool: RedisPool
    let checkpointer: RedisCheckpointer
    let clock = ContinuousClock()
    let model = BuiltinModelClient()
    let tools = NoTools()
    /// Unique per process, so that concurrent benchmark processes never share Redis keys.
    let runPrefix = "bench-\(getpid())-\(Int(Date().timeIntervalSince1970))"

    static func main() async throws {
        let options = Options(Array(CommandLine.arguments.dropFirst()))
        let pool: RedisPool
        do {
            pool = RedisPool(
                configuration: try RedisConfiguration(
                    url: options.redisURL, maximumConnections: 32, waitTimeout: .seconds(60)))
            _ = try await pool.send("PING")
        } catch {
            fail("Redis at \(options.redisURL) is not reachable (scripts/infra start): \(error)")
        }
        try checkEncoding()
        let benchmark = FlowBenchmark(
            options: options, pool: pool,
            checkpointer: RedisCheckpointer(pool: pool, namespace: "flowbench", ttlMilliseconds: 600_000, keep: 1_000))
        print(
            "FlowBenchmark: \(options.nodes)-node linear flow of set nodes (overwrite + append channel),"
                + " \(ProcessInfo.processInfo.activeProcessorCount) cores, \(options.redisURL)")
        if options.mode != "parallel" { try await benchmark.measureSingleRuns() }
        if options.mode != "single" { try await benchmark.measureParallelRuns() }
        pool.close()
    }

    /// The encoder is hand-written: checks that FlowCheckpoint's own Decodable reads it back unchanged.
    static func checkEncoding() throws {
        let document = #"""
            {"id": "r:1", "runID": "r", "step": 1, "nodeIDs": ["a"], "next": ["b"], "deferred": ["c"],
             "waiting": {"d": ["a"]}, "state": {"log": ["x\"\n\u0001", 0.5, null, 3], "o": {"k": true}},
             "interrupts": [{"interruptID": "r:1:h", "nodeID": "h", "prompt": "ok?", "choices": ["yes"]}],
             "sequence": 7, "nodeExecutions": 3, "activeSeconds": 0.000123,
             "usage": {"promptTokens": 1, "completionTokens": 2}, "completedSideEffects": {"r:1:t": {"ok": 1}},
             "createdAt": 786000000.123456}
            """#
        let sample = try CheckpointCoding.decode(Array(document.utf8))
        guard try CheckpointCoding.decode(CheckpointCoding.encode(sample)) == sample else {
            fail("the checkpoint encoding does not read back as the same checkpoint")
        }
    }

    /// Runs `runner` once as run `runID`; returns the run's microseconds, ending the benchmark on a wrong
    /// outcome.
    func timedRun(_ runner: FlowRunner, runID: String, nodes: Int) async -> Double {
        let start = clock.now
        let outcome = await runner.start(runID: runID, input: "benchmark")
        let elapsed = microseconds(clock.now - start)
        if let problem = LinearFlow.problem(with: outcome, nodes: nodes) { fail("run \(runID): \(problem)") }
        return elapsed
    }

    /// (a) and (b): one run at a time.
    func measureSingleRuns() async throws {
        let nodes = options.nodes
        let warmup = options.warmup
        let flow = LinearFlow.compiled(nodes: nodes)
        let bare = FlowRunner(flow: flow, model: model, tools: tools)

        for index in 0..<warmup { _ = await timedRun(bare, runID: "\(runPrefix)-w\(index)", nodes: nodes) }
        var perNode: [Double] = []
        for index in 0..<options.runs {
            perNode.append(await timedRun(bare, runID: "\(runPrefix)-a\(index)", nodes: nodes) / Double(nodes))
        }
        report("(a) no checkpointer, us per node", "ours_nocp_node_us", Stats(perNode), unit: "us")

        // A fresh store per run, so that memory does not grow over the runs (LangGraph's side deletes
        // each run's thread from its MemorySaver likewise).
        var inMemory: [Double] = []
        for index in 0..<(options.runs / 4 + warmup / 4) {
            let runner = FlowRunner(flow: flow, model: model, tools: tools, checkpointer: InMemoryCheckpointer())
            let elapsed = await timedRun(runner, runID: "\(runPrefix)-m\(index)", nodes: nodes) / Double(nodes)
            if index >= warmup / 4 { inMemory.append(elapsed) }
        }
        report("(a2) InMemoryCheckpointer, us per step", "ours_memcp_step_us", Stats(inMemory), unit: "us")

        // The loopback round trip alone, through the same pool: the floor under (b).
        var pings: [Double] = []
        for index in 0..<(options.redisRuns * 10) {
            let start = clock.now
            _ = try await pool.send("PING")
            if index >= options.redisRuns { pings.append(microseconds(clock.now - start)) }
        }
        report("    Redis PING round trip through RedisPool", "redis_ping_us", Stats(pings), unit: "us")

        let timed = TimedCheckpointer(checkpointer)
        let redis = FlowRunner(flow: flow, model: model, tools: tools, checkpointer: timed)
        var perStep: [Double] = []
        var encodeMicroseconds = 0.0
        var encodedBytes = 0
        for index in 0..<(options.redisRuns + warmup / 4) {
            let runID = "\(runPrefix)-b\(index)"
            if index == warmup / 4 { _ = timed.takeSaveTimes() }
            let elapsed = await timedRun(redis, runID: runID, nodes: nodes) / Double(nodes)
            if index >= warmup / 4 { perStep.append(elapsed) }
            if index == 0 {
                // The saved state must be the run's, readable back, with one checkpoint per step.
                let saved = try await checkpointer.checkpoints(runID: runID)
                guard let latest = try await checkpointer.latest(runID: runID), latest.step == nodes,
                    latest.state["log"]?.arrayValue?.count == nodes, latest.next.isEmpty,
                    saved.map(\.step) == Array(1...nodes)
                else { fail("the Redis checkpoints of \(runID) are not the run's \(nodes) steps") }
                // Encoding alone, over the run's checkpoints (the state grows by one log entry a step).
                let start = clock.now
                var bytes = 0
                for _ in 0..<10 { for checkpoint in saved { bytes += CheckpointCoding.encode(checkpoint).count } }
                encodeMicroseconds = microseconds(clock.now - start) / Double(10 * saved.count)
                encodedBytes = bytes / (10 * saved.count)
            }
            try await checkpointer.remove(runID: runID)
        }
        report("(b) RedisCheckpointer, us per step", "ours_redis_step_us", Stats(perStep), unit: "us")
        report(
            "    of which the save (encode + pipelined round trip)", "ours_redis_save_us",
            Stats(timed.takeSaveTimes()), unit: "us")
        print(
            "    of which encoding: \(fixed(encodeMicroseconds, 2)) us per checkpoint, \(encodedBytes) bytes"
                + " on average")
        print("metric ours_redis_encode_us \(fixed(encodeMicroseconds, 3))")
    }

    /// (c): `options.parallel` runs at once, without a checkpointer and with Redis.
    func measureParallelRuns() async throws {
        let count = options.parallelNodes
        let flow = LinearFlow.compiled(nodes: count)
        let variants: [(String, String, (any Checkpointer)?)] = [
            ("no checkpointer", "ours_parallel_nocp", nil), ("RedisCheckpointer", "ours_parallel_redis", checkpointer),
        ]
        for (label, name, store) in variants {
            let runner = FlowRunner(flow: flow, model: model, tools: tools, checkpointer: store)
            var rates: [Double] = []
            var errors = 0
            var firstError: String?
            for round in 0...options.rounds {  // round 0 warms up
                let ids = (0..<options.parallel).map { "\(runPrefix)-\(name)-\(round)-\($0)" }
                let start = clock.now
                let problems = await withTaskGroup(of: String?.self) { group in
                    for runID in ids {
                        group.addTask {
                            LinearFlow.problem(with: await runner.start(runID: runID, input: "benchmark"), nodes: count)
                        }
                    }
                    var problems: [String] = []
                    for await problem in group { if let problem { problems.append(problem) } }
                    return problems
                }
                let seconds = microseconds(clock.now - start) / 1e6
                if round > 0 {
                    rates.append(Double(options.parallel) / seconds)
                    errors += problems.count
                    firstError = firstError ?? problems.first
                }
                if store != nil {
                    for runID in ids { try await checkpointer.remove(runID: runID) }
                }
            }
            let stats = Stats(rates)
            print(
                "(c) \(options.parallel) runs of \(count) nodes at once, \(label): \(fixed(stats.p50, 0)) runs/s"
                    + " (median of \(options.rounds) rounds; \(fixed(stats.p50 * Double(count), 0)) nodes/s),"
                    + " errors \(errors)\(firstError.map { " - first: \($0)" } ?? "")")
            print("metric \(name)_runs_per_s \(fixed(stats.p50, 0))")
            print("metric \(name)_errors \(errors)")
        }
    }
}
