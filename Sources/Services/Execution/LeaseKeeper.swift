import Logging
import Runtime
import Synchronization

/// Keeps the leases of every run this replica drives and watches their cancel flags: one Redis
/// round trip every 100 ms for all of them, instead of one per run (a replica with 64 runs in
/// flight made 640 a second). A run asked to stop has its engine cancelled; a run whose lease
/// another replica holds now is detached.
final class LeaseKeeper: Sendable {
    private struct Watched {
        let tenant: String
        let runID: String
        let liveRun: LiveRun
        let engine: Task<Void, Never>
    }

    private struct State {
        var watched: [String: Watched] = [:]
        var ticking = false
    }

    private let state = Mutex(State())
    private let store: RunStateStore
    private let owner: String
    private let interval: Duration
    private let logger: Logger

    init(store: RunStateStore, owner: String, interval: Duration = .milliseconds(100), logger: Logger) {
        self.store = store
        self.owner = owner
        self.interval = interval
        self.logger = logger
    }

    /// Renews `runID`'s lease until `unwatch`, stopping `engine` when the run is cancelled or
    /// its lease lost.
    func watch(tenant: String, runID: String, liveRun: LiveRun, engine: Task<Void, Never>) {
        let start = state.withLock { state -> Bool in
            state.watched[runID] = Watched(tenant: tenant, runID: runID, liveRun: liveRun, engine: engine)
            defer { state.ticking = true }
            return !state.ticking
        }
        if start { Task { await self.tick() } }
    }

    /// Stops renewing (the run's engine ended).
    func unwatch(_ runID: String) {
        state.withLock { _ = $0.watched.removeValue(forKey: runID) }
    }

    /// Renews every watched lease each interval while there are any.
    private func tick() async {
        while true {
            try? await EventLoopSleep.sleep(for: interval)
            let watched = state.withLock { state -> [Watched] in
                if state.watched.isEmpty { state.ticking = false }
                return Array(state.watched.values)
            }
            if watched.isEmpty { return }
            let results: [(held: Bool, cancel: CancelRequest?)]
            do {
                results = try await store.renew(watched.map { ($0.tenant, $0.runID) }, owner: owner)
            } catch {
                logger.warning("cannot renew the leases of \(watched.count) runs: \(error)")
                continue
            }
            for (run, result) in zip(watched, results) {
                // A run that ended meanwhile gave its lease up: nothing to stop.
                guard result.cancel != nil || !result.held,
                    state.withLock({ $0.watched.removeValue(forKey: run.runID) }) != nil
                else { continue }
                if let cancel = result.cancel {
                    run.liveRun.setCancel(cancel)
                    run.engine.cancel()
                } else {
                    logger.warning("lost the lease of run \(run.runID); another replica continues it")
                    run.liveRun.detach()
                }
            }
        }
    }
}
