import BenchmarkSupport
// The scenario benchmark: the support-agent scenario against a running platform.
//
// Usage: ScenarioBenchmark --server HOST:PORT --tenant T --email E --password P
//          [--concurrency 1,16,64] [--messages 200] [--min-per-conversation 4] [--warmup 2]
//          [--profile-messages 20] [--admin-ports control=7901,kb-search=7903+7913,...]
//          [--pids control=PID,execution=PID+PID,...] [--postgres-pid PID] [--redis-pid PID]
//          [--json-out FILE] [--label TEXT] [--agent support-agent] [--timeout 120]
// (see Options.swift; ../scenario-run brings the platform up and passes all of it).
//
// 1. Warm-up: two messages of each path in a conversation of their own.
// 2. Profile: --profile-messages of each path one at a time in one conversation, with every
//    service's /metrics read before and after, so that the difference of the RPC histograms'
//    sums says how long each service spent per message; plus per-node times from the events.
// 3. For each concurrency C (none with `--concurrency none`): C conversations, each with --warmup untimed messages, then all of
//    them at once sending their timed messages in a loop, alternating the KB question and the
//    unanswerable one (conversation i starts with path i % 2, so both paths are always in
//    flight); per message: time to the first streamed item and to the end of the stream.
// The profile and every level also measure CPU per message of each process tree (CPUAccounting):
// the services (--pids), the PostgreSQL cluster (--postgres-pid), Redis (--redis-pid), the client.
// Prints a table to standard output and writes the results as JSON to --json-out.
import Foundation
import RPCCore
import RPCHTTP2

/// The benchmark's entry point and its phases.
@main
struct ScenarioBenchmark {
    let options: Options
    let client: ScenarioClient
    let scraper: MetricsScraper
    let cpu: CPUAccounting

    static func main() async {
        let options = Options(Array(CommandLine.arguments.dropFirst()))
        guard let address = Address(options.server) else { fail("bad --server") }
        // Two event loop threads: at 64 streams the client's own decoding should not be what waits.
        let transport = HTTP2ClientTransport(
            host: address.host, port: address.port, configuration: ClientConfiguration(threads: 2))
        let benchmark = ScenarioBenchmark(
            options: options, client: ScenarioClient(rpc: RPCClient(transport: transport), options: options),
            scraper: MetricsScraper(services: options.adminPorts),
            cpu: CPUAccounting(services: options.pids, postmaster: options.postmaster, redis: options.redis))
        let results: Results
        do {
            results = try await benchmark.run()
        } catch {
            await transport.close()
            fail("\(error)")
        }
        await transport.close()
        benchmark.printTable(results)
        if !options.jsonOut.isEmpty {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            do {
                try encoder.encode(results).write(to: URL(fileURLWithPath: options.jsonOut))
            } catch {
                fail("cannot write \(options.jsonOut): \(error)")
            }
        }
        let failed = results.levels.reduce(0) { $0 + $1.all.errors } + results.profile.reduce(0) { $0 + $1.errors }
        if failed > 0 {
            progress("\(failed) messages failed")
            exit(1)
        }
    }

    /// All phases, in order.
    func run() async throws -> Results {
        let startedAt = ISO8601DateFormatter().string(from: Date())
        var metadata = try await client.login()
        let agentID = try await client.agentID(metadata)
        progress("agent \(options.agent) is \(agentID); warming up")
        for path in Path.allCases {
            let conversation = try await client.startConversation(
                agentID: agentID, title: "bench warm-up \(path)", metadata)
            for _ in 0..<2 {
                let outcome = await client.send(path, conversation: conversation, metadata)
                if let error = outcome.error { throw BenchmarkError("warm-up message (\(path)) failed: \(error)") }
            }
        }

        var profile: [ProfileResult] = []
        if options.profileMessages > 0 {
            for path in Path.allCases {
                profile.append(try await self.profile(path, agentID: agentID, metadata))
            }
        }

        var levels: [LevelResult] = []
        for concurrency in options.concurrency {
            // A fresh token per level: a long run would outlive one (ACCESS_TOKEN_TTL, 15 min).
            metadata = try await client.login()
            levels.append(try await level(concurrency, agentID: agentID, metadata))
        }
        return Results(
            label: options.label, cores: ProcessInfo.processInfo.activeProcessorCount, cpu: Self.cpuModel(),
            startedAt: startedAt, kbQuestion: options.kbQuestion, ticketQuestion: options.ticketQuestion,
            warmupPerConversation: options.warmup,
            messagesSent: 2 * Path.allCases.count + profile.reduce(0) { $0 + $1.messages + $1.errors }
                + levels.reduce(0) { $0 + $1.concurrency * options.warmup + $1.all.messages + $1.all.errors },
            profile: profile, levels: levels)
    }

    /// Messages of `path` one at a time, with the services' RPC histograms read around them.
    func profile(_ path: Path, agentID: String, _ metadata: Metadata) async throws -> ProfileResult {
        progress("profile: \(options.profileMessages) messages of the \(path) path, one at a time")
        let conversation = try await client.startConversation(
            agentID: agentID, title: "bench profile \(path)", metadata)
        let before = await scraper.snapshot()
        let cpuBefore = cpu.snapshot()
        var outcomes: [MessageOutcome] = []
        for _ in 0..<options.profileMessages {
            outcomes.append(await client.send(path, conversation: conversation, metadata))
        }
        let cpuAfter = cpu.snapshot()
        let after = await scraper.snapshot()
        let summary = PathResult(outcomes, path: path, seconds: 0)
        let count = Double(max(1, summary.messages + summary.errors))
        let shares = after.compactMap { series, totals -> RPCShare? in
            let earlier = before[series] ?? MetricsScraper.Totals()
            let calls = totals.calls - earlier.calls
            guard calls > 0 else { return nil }
            return RPCShare(
                service: series.service, side: series.side, method: series.method, callsPerMessage: calls / count,
                msPerMessage: (totals.seconds - earlier.seconds) * 1000 / count)
        }.sorted { $0.msPerMessage > $1.msPerMessage }
        return ProfileResult(
            path: path.rawValue, messages: summary.messages, errors: summary.errors, firstItem: summary.firstItem,
            final: summary.final, run: summary.run, nodes: summary.nodes, phases: summary.phases,
            cpu: CPUAccounting.perMessage(from: cpuBefore, to: cpuAfter, messages: outcomes.count), rpc: shares,
            breakdown: ProfileResult.breakdown(final: summary.final?.mean ?? 0, shares: shares))
    }

    /// One concurrency level: `concurrency` conversations sending at once.
    func level(_ concurrency: Int, agentID: String, _ metadata: Metadata) async throws -> LevelResult {
        let perConversation = options.perConversation(concurrency)
        progress(
            "\(concurrency) conversations: \(options.warmup) warm-up and \(perConversation) timed messages each")
        let client = self.client
        let warmup = options.warmup
        let conversations = try await withThrowingTaskGroup(of: String.self) { group in
            for number in 0..<concurrency {
                group.addTask {
                    let id = try await client.startConversation(
                        agentID: agentID, title: "bench c\(concurrency) #\(number)", metadata)
                    for message in 0..<warmup {
                        let outcome = await client.send(
                            Self.path(conversation: number, message: message), conversation: id, metadata)
                        if let error = outcome.error {
                            throw BenchmarkError("warm-up in conversation \(number) failed: \(error)")
                        }
                    }
                    return id
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }

        let loadStart = loadAverage()
        let cpuBefore = cpu.snapshot()
        let clock = ContinuousClock()
        let began = clock.now
        let outcomes = await withTaskGroup(of: [MessageOutcome].self) { group in
            for (number, id) in conversations.enumerated() {
                group.addTask {
                    var outcomes: [MessageOutcome] = []
                    for message in 0..<perConversation {
                        outcomes.append(
                            await client.send(
                                Self.path(conversation: number, message: message), conversation: id, metadata))
                    }
                    return outcomes
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        let seconds = milliseconds(clock.now - began) / 1000
        let cpuAfter = cpu.snapshot()
        let cpuParts = CPUAccounting.perMessage(from: cpuBefore, to: cpuAfter, messages: outcomes.count)
        var errorCodes: [String: Int] = [:]
        for outcome in outcomes { if let error = outcome.error { errorCodes[error, default: 0] += 1 } }
        let result = LevelResult(
            concurrency: concurrency, perConversation: perConversation, seconds: seconds,
            all: PathResult(outcomes, path: nil, seconds: seconds),
            paths: Path.allCases.map { PathResult(outcomes, path: $0, seconds: seconds) }, errorCodes: errorCodes,
            loadStart: loadStart, loadEnd: loadAverage(),
            cpu: cpuParts, ownProcessesCPU: cpuParts.first { $0.part == CPUAccounting.ownProcesses }?.ms)
        progress(
            "\(concurrency) conversations: \(result.all.messages) answered, \(result.all.errors) failed"
                + " in \(fixed(seconds, 1)) s; final answer \(triple(result.all.final)) ms (p50 / p99 / mean)")
        return result
    }

    /// Which question conversation `conversation` asks as its `message`th: alternating, and
    /// neighbouring conversations out of step.
    static func path(conversation: Int, message: Int) -> Path {
        (conversation + message) % 2 == 0 ? .kb : .ticket
    }

    /// The processor's model name from /proc/cpuinfo.
    static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
            let colon = line.firstIndex(of: ":")
        else { return "unknown" }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
}

/// A failure that ends the benchmark.
struct BenchmarkError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}
