import FlowEngine

/// A checkpointer bound to one tenant, for the engine.
struct RedisCheckpointer: Checkpointer {
    let store: RunStateStore
    let tenant: String

    func save(_ checkpoint: FlowCheckpoint) async throws {
        try await store.save(checkpoint, tenant: tenant)
    }

    func recordSideEffect(runID: String, key: String, result: JSONValue) async throws {
        try await store.recordSideEffect(tenant: tenant, runID: runID, key: key, result: result)
    }

    func latest(runID: String) async throws -> FlowCheckpoint? {
        try await store.latest(tenant: tenant, runID: runID)
    }

    func checkpoints(runID: String) async throws -> [FlowCheckpoint] {
        try await store.checkpoints(tenant: tenant, runID: runID)
    }
}
