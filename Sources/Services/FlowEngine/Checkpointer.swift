public import Foundation
import Synchronization

/// Everything needed to continue a run: saved after every super-step.
public struct FlowCheckpoint: Sendable, Hashable, Codable {
    /// `<run_id>:<step>`.
    public var id: String
    /// The run.
    public var runID: String
    /// Super-steps completed.
    public var step: Int
    /// The nodes that finished in this step.
    public var nodeIDs: [String]
    /// The nodes that run in the next step (while paused: the interrupted ones, which run again on resume).
    public var next: [String]
    /// While paused: the successors of the nodes that finished beside the interrupted ones; they join
    /// the step after the interrupted nodes finish.
    public var deferred: [String]
    /// Fan-in barriers in progress: for a node with `wait_for`, the predecessors that already finished.
    public var waiting: [String: [String]]
    /// The full state after the step.
    public var state: [String: JSONValue]
    /// Pending interrupts; non-empty while the run waits for input.
    public var interrupts: [FlowInterrupt]
    /// The sequence number of the last event of this step.
    public var sequence: Int64
    /// Node executions so far (what the step limit counts).
    public var nodeExecutions: Int
    /// Running time so far, excluding pauses.
    public var activeSeconds: Double
    /// Token usage so far.
    public var usage: FlowUsage
    /// Tool results by idempotency key recorded after this step began (a step cut short by a crash):
    /// on resume these calls are not repeated.
    public var completedSideEffects: [String: JSONValue]
    /// When it was taken.
    public var createdAt: Date
}

extension FlowCheckpoint {
    /// `activeSeconds` as a duration, safe for any stored value (not finite or negative: zero;
    /// at most a century).
    public var activeTime: Duration { RunLoop.duration(seconds: activeSeconds) }
}

/// Stores checkpoints; the execution service writes them to Redis, tests use `InMemoryCheckpointer`.
public protocol Checkpointer: Sendable {
    /// Saves the checkpoint taken after a step.
    func save(_ checkpoint: FlowCheckpoint) async throws
    /// Records a completed side effect (a tool result) of the step in progress.
    func recordSideEffect(runID: String, key: String, result: JSONValue) async throws
    /// The newest checkpoint of the run, with the side effects recorded since merged into
    /// `completedSideEffects`; nil when there is none.
    func latest(runID: String) async throws -> FlowCheckpoint?
    /// Every checkpoint of the run, oldest first.
    func checkpoints(runID: String) async throws -> [FlowCheckpoint]
}

/// A `Checkpointer` in memory, for tests and single-process use.
public final class InMemoryCheckpointer: Checkpointer {
    private struct Store {
        var checkpoints: [String: [FlowCheckpoint]] = [:]
        var effects: [String: [String: JSONValue]] = [:]
    }

    private let store = Mutex(Store())

    /// Creates an empty store.
    public init() {}

    /// Appends the checkpoint; side effects of the finished step are no longer needed.
    public func save(_ checkpoint: FlowCheckpoint) async throws {
        store.withLock {
            $0.checkpoints[checkpoint.runID, default: []].append(checkpoint)
            $0.effects[checkpoint.runID] = nil
        }
    }

    /// Records a tool result of the step in progress.
    public func recordSideEffect(runID: String, key: String, result: JSONValue) async throws {
        store.withLock { $0.effects[runID, default: [:]][key] = result }
    }

    /// The newest checkpoint with the step-in-progress side effects merged in.
    public func latest(runID: String) async throws -> FlowCheckpoint? {
        store.withLock { store in
            guard var checkpoint = store.checkpoints[runID]?.last else { return nil }
            checkpoint.completedSideEffects.merge(store.effects[runID] ?? [:]) { $1 }
            return checkpoint
        }
    }

    /// Every checkpoint of the run, oldest first.
    public func checkpoints(runID: String) async throws -> [FlowCheckpoint] {
        store.withLock { $0.checkpoints[runID] ?? [] }
    }
}
