import Logging

/// Keeps the approximate indexes of large tenants built and current on this replica: at start-up
/// it loads every tenant at or above the threshold (from `kb.index_tenants`), then it applies the
/// other replicas' writes every `interval`, so a search never pays for a long catch-up.
struct IndexSynchronizer: Sendable {
    let store: KBStore
    let registry: VectorIndexRegistry
    let threshold: Int
    let interval: Duration
    let preload: Bool
    let logger: Logger

    /// Runs until cancelled.
    func run() async {
        if preload {
            do {
                try await preloadLargeTenants()
            } catch {
                logger.warning("kb: could not preload the large knowledge bases", metadata: ["error": "\(error)"])
            }
        }
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                break
            }
            for index in registry.all where await index.count >= threshold / 2 {
                do {
                    try await registry.catchUp(index, store: store)
                } catch {
                    logger.warning(
                        "kb: catching up with other replicas failed",
                        metadata: ["tenant": "\(index.tenant)", "error": "\(error)"])
                }
            }
        }
        // Shutting down: graphs still being built are of no use any more.
        for index in registry.all { await index.cancelBuild() }
    }

    /// Loads the indexes of every tenant at or above the threshold, one at a time.
    func preloadLargeTenants() async throws {
        for tenant in try await store.largeTenants(minimumChunks: threshold) {
            guard !Task.isCancelled else { return }
            let index = registry.index(for: tenant)
            try await registry.catchUp(index, store: store)
            // One graph at a time: a replica starting with many large tenants builds them in turn.
            _ = await index.awaitApproximateIndex()
        }
    }
}
