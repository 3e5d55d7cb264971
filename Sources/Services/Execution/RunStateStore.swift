import FlowEngine
import Foundation
import RPCModels
import RuntimeRedis

/// A run's live state in Redis: checkpoints (the last N, with a TTL), completed side effects of
/// the step in progress, the capped event stream, the lease of the replica running it, the
/// cancel flag, and the cross-tenant index of runs in progress that recovery scans.
struct RunStateStore: Sendable {
    let redis: RedisPool
    let settings: ExecutionSettings

    /// The index of runs in progress (`tenant \n run id`), scanned for orphans by every replica
    /// of the group.
    var activeRunsKey: String { "execution:active-runs:\(settings.replicaGroup)" }

    private static let renewScript = """
        if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
        return 0
        """
    private static let releaseScript = """
        if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
        return 0
        """

    private func key(_ tenant: String, _ runID: String, _ part: String) throws -> String {
        try RedisKey.tenant(tenant, "run", runID, part)
    }

    private var checkpointTTLMilliseconds: Int64 { settings.checkpointTTL.milliseconds }

    // MARK: Checkpoints

    /// Saves a checkpoint in one round trip: push and trim to the retention; with `refreshTTL`,
    /// set the list's TTL again; with `clearEffects`, forget the side effects of the step it
    /// completes, together with the push (MULTI/EXEC).
    func save(_ checkpoint: FlowCheckpoint, tenant: String, refreshTTL: Bool = true, clearEffects: Bool = true)
        async throws
    {
        let list = try key(tenant, checkpoint.runID, "checkpoints")
        let data = Array(checkpoint.jsonText.utf8)
        var commands: [[any RedisArgumentConvertible]] = [
            ["LPUSH", list, RedisArgument(data)], ["LTRIM", list, 0, settings.checkpointRetention - 1],
        ]
        if refreshTTL { commands.append(["PEXPIRE", list, checkpointTTLMilliseconds]) }
        if clearEffects {
            commands = [["MULTI"]] + commands + [["DEL", try key(tenant, checkpoint.runID, "effects")], ["EXEC"]]
        }
        let replies = try await redis.pipeline(commands)
        for case .error(let message) in replies {
            throw RedisError(code: .server, message: "saving checkpoint \(checkpoint.id): \(message)")
        }
    }

    /// Records a completed tool result of the step in progress.
    func recordSideEffect(tenant: String, runID: String, key idempotencyKey: String, result: JSONValue) async throws {
        let effects = try key(tenant, runID, "effects")
        let data = Array(result.jsonText.utf8)
        _ = try await redis.pipeline([
            ["HSET", effects, idempotencyKey, RedisArgument(data)],
            ["PEXPIRE", effects, checkpointTTLMilliseconds],
        ])
    }

    /// The newest checkpoint with the side effects recorded since merged in.
    func latest(tenant: String, runID: String) async throws -> FlowCheckpoint? {
        let replies = try await redis.pipeline([
            ["LINDEX", try key(tenant, runID, "checkpoints"), 0], ["HGETALL", try key(tenant, runID, "effects")],
        ])
        guard replies.count == 2, !replies[0].isNull else { return nil }
        var checkpoint = try JSONDecoder().decode(FlowCheckpoint.self, from: Data(try replies[0].bytes()))
        let pairs = (try? replies[1].array()) ?? []
        var index = 0
        while index + 1 < pairs.count {
            let name = try pairs[index].string()
            checkpoint.completedSideEffects[name] = try JSONDecoder().decode(
                JSONValue.self, from: Data(try pairs[index + 1].bytes()))
            index += 2
        }
        return checkpoint
    }

    /// The retained checkpoints, oldest first.
    func checkpoints(tenant: String, runID: String) async throws -> [FlowCheckpoint] {
        let items = try await redis.send("LRANGE", try key(tenant, runID, "checkpoints"), 0, -1).array()
        return try items.reversed().map { try JSONDecoder().decode(FlowCheckpoint.self, from: Data(try $0.bytes())) }
    }

    /// The remaining lifetime of the checkpoint list in milliseconds (-2: none).
    func checkpointTTL(tenant: String, runID: String) async throws -> Int64 {
        try await redis.send("PTTL", try key(tenant, runID, "checkpoints")).int()
    }

    // MARK: Events

    /// Appends events to the run's capped stream, with the sequence as the entry id. An id that
    /// is already there (events re-emitted after a crash) keeps the first version. With
    /// `inactive`, the run also leaves the index of runs in progress (`markInactive`), after them.
    /// The stream's TTL is set again with `refreshTTL` (`TTLRefresh`) and always at the end.
    func append(
        _ events: [Agentplane_V1_ExecutionEvent], tenant: String, ended: Bool, inactive: Bool = false,
        refreshTTL: Bool = true
    ) async throws {
        guard let runID = events.first?.runID else { return }
        let stream = try key(tenant, runID, "events")
        var commands: [[any RedisArgumentConvertible]] = events.map { event in
            [
                "XADD", stream, "MAXLEN", "~", settings.eventMax, "\(event.sequence)-1", "e",
                RedisArgument(event.serializedBytes()),
            ]
        }
        let ttl = ended ? settings.eventTTL.milliseconds : max(settings.eventTTL, settings.checkpointTTL).milliseconds
        if refreshTTL || ended { commands.append(["PEXPIRE", stream, ttl]) }
        if inactive { commands.append(["SREM", activeRunsKey, "\(tenant)\n\(runID)"]) }
        _ = try await redis.pipeline(commands)
    }

    /// Stored events with a sequence above `after`, in order, and the lowest sequence retained.
    func events(tenant: String, runID: String, after: Int64, limit: Int = 500) async throws
        -> (events: [Agentplane_V1_ExecutionEvent], firstRetained: Int64?)
    {
        let stream = try key(tenant, runID, "events")
        let replies = try await redis.pipeline([
            // Stream ids are unsigned: "after Int64.max" is a valid, empty range.
            ["XRANGE", stream, "\(UInt64(max(after, 0)) + 1)-0", "+", "COUNT", limit],
            ["XRANGE", stream, "-", "+", "COUNT", 1],
        ])
        func decode(_ reply: RedisReply) throws -> [Agentplane_V1_ExecutionEvent] {
            try reply.array().map { entry in
                let fields = try entry.array()[1].array()
                return try Agentplane_V1_ExecutionEvent(serializedBytes: try fields[1].bytes())
            }
        }
        if case .error(let message) = replies[0] { throw RedisError(code: .server, message: message) }
        return (try decode(replies[0]), try decode(replies[1]).first?.sequence)
    }

    /// The sequence of the newest stored event (0: none).
    func lastSequence(tenant: String, runID: String) async throws -> Int64 {
        let entries = try await redis.send("XREVRANGE", try key(tenant, runID, "events"), "+", "-", "COUNT", 1).array()
        guard let id = try entries.first?.array().first?.string() else { return 0 }
        return Int64(id.split(separator: "-").first ?? "") ?? 0
    }

    // MARK: Leases, cancellation, the active index

    /// Claims a new run for `owner` and marks it in progress, in one round trip (`acquireLease`
    /// and `markActive`); whether the lease was taken.
    func claim(tenant: String, runID: String, owner: String) async throws -> Bool {
        let replies = try await redis.pipeline([
            ["SET", try key(tenant, runID, "lease"), owner, "NX", "PX", settings.leaseTTL.milliseconds],
            ["SADD", activeRunsKey, "\(tenant)\n\(runID)"],
        ])
        for case .error(let message) in replies { throw RedisError(code: .server, message: message) }
        return replies.first.map { !$0.isNull } ?? false
    }

    /// Claims the run for `owner` unless another replica holds it.
    func acquireLease(tenant: String, runID: String, owner: String) async throws -> Bool {
        let reply = try await redis.send(
            "SET", try key(tenant, runID, "lease"), owner, "NX", "PX", settings.leaseTTL.milliseconds)
        return !reply.isNull
    }

    /// Extends the leases and reads the cancel flags of several runs in one round trip, in
    /// their order: whether each lease is still ours, and the cancel reason if one was set.
    func renew(_ runs: [(tenant: String, runID: String)], owner: String) async throws
        -> [(held: Bool, cancel: CancelRequest?)]
    {
        var commands: [[any RedisArgumentConvertible]] = []
        for run in runs {
            commands.append([
                "EVAL", Self.renewScript, 1, try key(run.tenant, run.runID, "lease"), owner,
                settings.leaseTTL.milliseconds,
            ])
            commands.append(["GET", try key(run.tenant, run.runID, "cancel")])
        }
        let replies = try await redis.pipeline(commands)
        return try runs.indices.map { index in
            let held = (try? replies[2 * index].int()) == 1
            let flag = replies[2 * index + 1]
            return (held, flag.isNull ? nil : CancelRequest(decoding: try flag.bytes()))
        }
    }

    /// Gives the lease up if it is still ours.
    func releaseLease(tenant: String, runID: String, owner: String) async throws {
        _ = try await redis.send(["EVAL", Self.releaseScript, 1, try key(tenant, runID, "lease"), owner])
    }

    /// Asks whichever replica runs the run to stop it.
    func requestCancel(tenant: String, runID: String, _ request: CancelRequest) async throws {
        _ = try await redis.send(
            "SET", try key(tenant, runID, "cancel"), RedisArgument(request.encoded), "PX", checkpointTTLMilliseconds)
    }

    /// A pending cancel request, if any.
    func cancelRequest(tenant: String, runID: String) async throws -> CancelRequest? {
        let reply = try await redis.send("GET", try key(tenant, runID, "cancel"))
        return reply.isNull ? nil : CancelRequest(decoding: try reply.bytes())
    }

    /// Marks the run as in progress (recovery looks at these).
    func markActive(tenant: String, runID: String) async throws {
        _ = try await redis.send("SADD", activeRunsKey, "\(tenant)\n\(runID)")
    }

    /// The run no longer needs a replica (ended or paused).
    func markInactive(tenant: String, runID: String) async throws {
        _ = try await redis.send("SREM", activeRunsKey, "\(tenant)\n\(runID)")
    }

    /// Every run in progress on any replica, as (tenant, run id).
    func activeRuns() async throws -> [(tenant: String, runID: String)] {
        try await redis.send("SMEMBERS", activeRunsKey).array().compactMap { reply in
            let parts = try reply.string().split(separator: "\n", maxSplits: 1).map(String.init)
            return parts.count == 2 ? (parts[0], parts[1]) : nil
        }
    }
}
