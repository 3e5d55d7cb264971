import FlowEngine
import RuntimeRedis

/// A `Checkpointer` on Redis: every save is one pipelined round trip (SET the checkpoint, push its
/// id on the run's index, trim the index, refresh its expiry, drop the finished step's side effects).
///
/// Keys, under the tenant-style prefix `t:<namespace>:run:<run_id>`: `:cp:<step>` (a checkpoint,
/// hand-written JSON), `:cps` (a list of checkpoint ids, newest first), `:fx` (a hash of the side
/// effects recorded in the step in progress). Everything expires `ttlMilliseconds` after its last write.
struct RedisCheckpointer: Checkpointer {
    /// The pool the commands go through.
    let pool: RedisPool
    /// The key prefix's tenant part.
    let namespace: String
    /// How long a run's keys live after the last save.
    let ttlMilliseconds: Int
    /// Checkpoints kept per run (older ones drop out of the index and expire).
    let keep: Int

    private func prefix(_ runID: String) -> String { "t:\(namespace):run:\(runID)" }

    /// Saves `checkpoint` in one round trip; a rejected command fails the save.
    func save(_ checkpoint: FlowCheckpoint) async throws {
        let run = prefix(checkpoint.runID)
        let index = run + ":cps"
        let ttl = ttlMilliseconds
        let replies = try await pool.pipeline([
            ["SET", "\(run):cp:\(checkpoint.step)", CheckpointCoding.encode(checkpoint), "PX", ttl],
            ["LPUSH", index, checkpoint.id],
            ["LTRIM", index, 0, keep - 1],
            ["PEXPIRE", index, ttl],
            ["DEL", run + ":fx"],
        ])
        if let rejected = replies.first(where: { if case .error = $0 { true } else { false } }) {
            throw RedisError(code: .server, message: "saving checkpoint \(checkpoint.id) failed: \(rejected)")
        }
    }

    /// Records a tool result of the step in progress (one round trip).
    func recordSideEffect(runID: String, key: String, result: JSONValue) async throws {
        let effects = prefix(runID) + ":fx"
        _ = try await pool.pipeline([
            ["HSET", effects, key, result.jsonText], ["PEXPIRE", effects, ttlMilliseconds],
        ])
    }

    /// The newest checkpoint with the step-in-progress side effects merged in.
    func latest(runID: String) async throws -> FlowCheckpoint? {
        let run = prefix(runID)
        let head = try await pool.pipeline([["LINDEX", run + ":cps", 0], ["HGETALL", run + ":fx"]])
        guard case .bulk(let id) = head[0], let step = String(decoding: id, as: UTF8.self).split(separator: ":").last
        else { return nil }
        let stored = try await pool.send("GET", "\(run):cp:\(step)")
        guard case .bulk(let bytes) = stored else { return nil }
        var checkpoint = try CheckpointCoding.decode(bytes)
        let fields = try head[1].array()
        for pair in stride(from: 0, to: fields.count - 1, by: 2) {
            checkpoint.completedSideEffects[try fields[pair].string()] = try JSONValue.parse(fields[pair + 1].string())
        }
        return checkpoint
    }

    /// The run's checkpoints still in the index, oldest first.
    func checkpoints(runID: String) async throws -> [FlowCheckpoint] {
        let run = prefix(runID)
        let ids = try await pool.send("LRANGE", run + ":cps", 0, -1).array().reversed()
        let keys = try ids.map { "\(run):cp:\(try $0.string().split(separator: ":").last ?? "")" }
        guard !keys.isEmpty else { return [] }
        return try await pool.send(["MGET"] + keys).array().compactMap { reply in
            guard case .bulk(let bytes) = reply else { return nil }
            return try CheckpointCoding.decode(bytes)
        }
    }

    /// Deletes every key of the run (the benchmark cleans up after itself).
    func remove(runID: String) async throws {
        let run = prefix(runID)
        let ids = try await pool.send("LRANGE", run + ":cps", 0, -1).array()
        let keys = try ids.map { "\(run):cp:\(try $0.string().split(separator: ":").last ?? "")" }
        _ = try await pool.send(["DEL", run + ":cps", run + ":fx"] + keys)
    }
}
