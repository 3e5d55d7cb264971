import RPCModels
import Synchronization

/// A run in progress on this replica: its task, its local subscriber, and why it stopped.
final class LiveRun: Sendable {
    private struct Inner {
        var subscriber: AsyncStream<Agentplane_V1_ExecutionEvent>.Continuation?
        var task: Task<Void, Never>?
        var engine: Task<Void, Never>?
        var cancel: CancelRequest?
        var leaseLost = false
        var engineStopped = false
        var engineError: String?
    }

    private let inner: Mutex<Inner>

    init(subscriber: AsyncStream<Agentplane_V1_ExecutionEvent>.Continuation) {
        inner = Mutex(Inner(subscriber: subscriber))
    }

    func setTask(_ task: Task<Void, Never>) { inner.withLock { $0.task = task } }
    /// Records the engine's task; one stopped before it existed is cancelled at once.
    func setEngine(_ task: Task<Void, Never>) {
        let stopped = inner.withLock { inner in
            inner.engine = task
            return inner.engineStopped
        }
        if stopped { task.cancel() }
    }
    var task: Task<Void, Never>? { inner.withLock { $0.task } }

    /// Stops the run here without ending it (the lease went to another replica, or this replica
    /// shuts down): nothing more is recorded, and whoever holds the lease next continues it.
    func detach() {
        let engine = inner.withLock { inner in
            inner.leaseLost = true
            return inner.engine
        }
        engine?.cancel()
    }
    /// Stops the engine of a run that this replica has ended itself (an oversized event): its
    /// lease is kept until the run task finishes.
    func stopEngine() {
        let engine = inner.withLock { inner in
            inner.engineStopped = true
            return inner.engine
        }
        engine?.cancel()
    }
    func setCancel(_ request: CancelRequest) { inner.withLock { $0.cancel = request } }
    func setEngineError(_ message: String) { inner.withLock { $0.engineError = message } }
    var cancelRequest: CancelRequest? { inner.withLock { $0.cancel } }
    var leaseLost: Bool { inner.withLock { $0.leaseLost } }
    var engineError: String? { inner.withLock { $0.engineError } }

    /// Sends an event to the caller that started or resumed the run, if it still listens.
    func publish(_ event: Agentplane_V1_ExecutionEvent) {
        let subscriber = inner.withLock { $0.subscriber }
        subscriber?.yield(event)
    }

    /// Ends the caller's stream.
    func finishSubscriber() {
        let subscriber = inner.withLock { inner in
            defer { inner.subscriber = nil }
            return inner.subscriber
        }
        subscriber?.finish()
    }
}
