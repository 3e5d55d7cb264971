import BenchmarkSupport
import Foundation

/// One path's figures at one level, or all paths together.
struct PathResult: Codable, Sendable {
    /// `kb`, `ticket` or `all`.
    let path: String
    /// Timed messages answered without error.
    let messages: Int
    /// Timed messages that failed (any reason, see LevelResult.errorCodes).
    let errors: Int
    /// Send → first SendMessageResponse (the saved user message), ms.
    let firstItem: Stats?
    /// Send → first execution event (run_started), ms.
    let firstEvent: Stats?
    /// Send → first answer_delta (KB path only), ms.
    let firstDelta: Stats?
    /// Send → end of the stream (the final answer), ms.
    let final: Stats?
    /// The run's own elapsed time (RunFinished.elapsed), ms.
    let run: Stats?
    /// Answered messages per second of the level's wall time.
    let throughput: Double
    /// Per node: NodeFinished.elapsed, ms.
    let nodes: [String: Stats]
    /// The message's phases by the events' `emitted_at` and the client's clock, ms (see `phaseNames`).
    let phases: [String: Stats]

    /// The phases of a message, in order: send → run_started emitted (control saves the message
    /// and asks execution, which loads the agent and starts the run); run_started → run_finished
    /// (both emitted; the flow itself); run_finished emitted → received by the client (relayed by
    /// execution and control); received → end of the stream (the saved assistant message, trailers).
    static let phaseNames = ["before_run", "run", "run_end_delivery", "after_run_end"]

    /// Summarises `outcomes` (those of `path`, or all when nil) over `seconds` of wall time.
    init(_ outcomes: [MessageOutcome], path: Path?, seconds: Double) {
        let mine = outcomes.filter { path == nil || $0.expected == path }
        let answered = mine.filter { $0.error == nil }
        self.path = path?.rawValue ?? "all"
        messages = answered.count
        errors = mine.count - answered.count
        firstItem = Stats.of(answered.compactMap(\.firstItem))
        firstEvent = Stats.of(answered.compactMap(\.firstEvent))
        firstDelta = Stats.of(answered.compactMap(\.firstDelta))
        final = Stats.of(answered.compactMap(\.final))
        run = Stats.of(answered.compactMap(\.runElapsed))
        throughput = seconds > 0 ? Double(answered.count) / seconds : 0
        var nodeSamples: [String: [Double]] = [:]
        for outcome in answered {
            for (node, elapsed) in outcome.nodes { nodeSamples[node, default: []].append(elapsed) }
        }
        nodes = nodeSamples.compactMapValues { Stats.of($0) }
        var phaseSamples: [String: [Double]] = [:]
        for outcome in answered {
            guard let start = outcome.runStartEmitted, let end = outcome.runEndEmitted,
                let received = outcome.runEndReceived, let final = outcome.final
            else { continue }
            let values = [start, end - start, received - end, final - received]
            for (name, value) in zip(Self.phaseNames, values) { phaseSamples[name, default: []].append(value) }
        }
        phases = phaseSamples.compactMapValues { Stats.of($0) }
    }
}

/// One concurrency level.
struct LevelResult: Codable, Sendable {
    /// Conversations sending at once.
    let concurrency: Int
    /// Timed messages per conversation.
    let perConversation: Int
    /// Wall time of the timed part, seconds.
    let seconds: Double
    /// All paths together, then each path.
    let all: PathResult
    let paths: [PathResult]
    /// Failed messages by reason (a gRPC status name, RUN_FAILED <code>, WRONG_PATH, NO_ANSWER).
    let errorCodes: [String: Int]
    /// One-minute load average before and after.
    let loadStart: Double
    let loadEnd: Double
    /// CPU milliseconds per answered message by process group (CPUAccounting), the machine last.
    let cpu: [TimePart]
    /// CPU milliseconds per message of the services, PostgreSQL and Redis together, the client
    /// apart: the figure compared with the anchor's (`CPUAccounting.ownProcesses` in `cpu`).
    let ownProcessesCPU: Double?
}

/// One service method's share of a message, from the /metrics histograms.
struct RPCShare: Codable, Sendable {
    let service: String
    /// `server`: time inside the service's handler; `client`: time the service waited for a peer.
    let side: String
    let method: String
    /// Calls per message.
    let callsPerMessage: Double
    /// Milliseconds per message (all its calls).
    let msPerMessage: Double
}

/// A part of a message's time in the profile's breakdown.
struct TimePart: Codable, Sendable {
    /// What the time was spent on.
    let part: String
    /// Milliseconds per message.
    let ms: Double
}

/// Where the time of one message goes, one message at a time.
struct ProfileResult: Codable, Sendable {
    let path: String
    let messages: Int
    let errors: Int
    /// As seen by the client.
    let firstItem: Stats?
    let final: Stats?
    /// RunFinished.elapsed.
    let run: Stats?
    /// NodeFinished.elapsed per node.
    let nodes: [String: Stats]
    /// See PathResult.phases.
    let phases: [String: Stats]
    /// CPU milliseconds per message by process group (CPUAccounting), the machine last.
    let cpu: [TimePart]
    /// Per service method, largest first.
    let rpc: [RPCShare]
    /// The client's mean time to the final answer split into each service's own time (its
    /// handlers' time minus the time they waited for peers), the peer calls' transport (the caller's
    /// time minus the callee's) and the hop between the benchmark client and control; the parts add
    /// up to the mean.
    let breakdown: [TimePart]

    /// The breakdown of `final` (ms) by `shares`: every server-side method but SendMessage is a
    /// peer call made for the message.
    static func breakdown(final: Double, shares: [RPCShare]) -> [TimePart] {
        let sendMessage = "/agentplane.v1.ConversationService/SendMessage"
        let entry = shares.first { $0.side == "server" && $0.method == sendMessage }?.msPerMessage ?? 0
        var parts = [TimePart(part: "benchmark client <-> control (HTTP/2, auth, relay)", ms: final - entry)]
        var services: [String] = []
        for share in shares where !services.contains(share.service) { services.append(share.service) }
        for service in services.sorted() {
            let served = shares.filter { $0.service == service && $0.side == "server" }.reduce(0) {
                $0 + $1.msPerMessage
            }
            let waited = shares.filter { $0.service == service && $0.side == "client" }.reduce(0) {
                $0 + $1.msPerMessage
            }
            parts.append(TimePart(part: "\(service) (own time)", ms: served - waited))
        }
        let waitedForPeers = shares.filter { $0.side == "client" }.reduce(0) { $0 + $1.msPerMessage }
        let servedPeers = shares.filter { $0.side == "server" && $0.method != sendMessage }.reduce(0) {
            $0 + $1.msPerMessage
        }
        parts.append(TimePart(part: "peer calls' transport (gRPC on loopback, auth)", ms: waitedForPeers - servedPeers))
        return parts
    }
}

/// Everything one benchmark run measured.
struct Results: Codable, Sendable {
    /// What was measured (e.g. "release services").
    let label: String
    let cores: Int
    let cpu: String
    let startedAt: String
    let kbQuestion: String
    let ticketQuestion: String
    let warmupPerConversation: Int
    /// Every message sent, warm-ups and profile included (to divide whole-run counters by).
    let messagesSent: Int
    let profile: [ProfileResult]
    let levels: [LevelResult]
}
