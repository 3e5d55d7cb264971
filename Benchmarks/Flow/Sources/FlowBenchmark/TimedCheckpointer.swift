import BenchmarkSupport
import FlowEngine
import Synchronization

/// Wraps a checkpointer and records how long each save took, to split a step's time into the save
/// (encoding and the round trip) and the engine's own work.
final class TimedCheckpointer: Checkpointer {
    private let base: any Checkpointer
    private let saves = Mutex<[Double]>([])
    private let clock = ContinuousClock()

    /// Wraps `base`.
    init(_ base: any Checkpointer) {
        self.base = base
    }

    /// The microseconds of every save so far; clears the record.
    func takeSaveTimes() -> [Double] {
        saves.withLock { times in
            defer { times = [] }
            return times
        }
    }

    /// Saves through `base`, timed.
    func save(_ checkpoint: FlowCheckpoint) async throws {
        let start = clock.now
        try await base.save(checkpoint)
        let elapsed = microseconds(clock.now - start)
        saves.withLock { $0.append(elapsed) }
    }

    /// Forwards to `base`.
    func recordSideEffect(runID: String, key: String, result: JSONValue) async throws {
        try await base.recordSideEffect(runID: runID, key: key, result: result)
    }

    /// Forwards to `base`.
    func latest(runID: String) async throws -> FlowCheckpoint? { try await base.latest(runID: runID) }

    /// Forwards to `base`.
    func checkpoints(runID: String) async throws -> [FlowCheckpoint] { try await base.checkpoints(runID: runID) }
}
