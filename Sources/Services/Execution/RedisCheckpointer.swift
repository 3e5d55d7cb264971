import FlowEngine
import Synchronization

/// A checkpointer bound to one tenant and one run's engine, for the engine.
///
/// A save sets the checkpoint list's TTL only when `TTLRefresh` says so, and clears the step's
/// side effects only when some were recorded since the last save (or on this checkpointer's
/// first save, as a replica taking a run over cannot know what the previous one left).
final class RedisCheckpointer: Checkpointer {
    let store: RunStateStore
    let tenant: String
    private struct Upkeep {
        var refresh: TTLRefresh
        var effectsPending = true
    }

    private let upkeep: Mutex<Upkeep>

    init(store: RunStateStore, tenant: String) {
        self.store = store
        self.tenant = tenant
        upkeep = Mutex(Upkeep(refresh: TTLRefresh(ttl: store.settings.checkpointTTL)))
    }

    func save(_ checkpoint: FlowCheckpoint) async throws {
        let (refreshTTL, clearEffects) = upkeep.withLock { upkeep in
            defer { upkeep.effectsPending = false }
            return (upkeep.refresh.due(now: .now), upkeep.effectsPending)
        }
        do {
            try await store.save(checkpoint, tenant: tenant, refreshTTL: refreshTTL, clearEffects: clearEffects)
        } catch {
            // Not known to be stored: the next save does all of it.
            upkeep.withLock { $0 = Upkeep(refresh: TTLRefresh(ttl: store.settings.checkpointTTL)) }
            throw error
        }
    }

    func recordSideEffect(runID: String, key: String, result: JSONValue) async throws {
        upkeep.withLock { $0.effectsPending = true }
        try await store.recordSideEffect(tenant: tenant, runID: runID, key: key, result: result)
    }

    func latest(runID: String) async throws -> FlowCheckpoint? {
        try await store.latest(tenant: tenant, runID: runID)
    }

    func checkpoints(runID: String) async throws -> [FlowCheckpoint] {
        try await store.checkpoints(tenant: tenant, runID: runID)
    }
}
