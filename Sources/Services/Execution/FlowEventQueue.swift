import FlowEngine
import Synchronization

/// The engine's events on their way to the pump, handed over in batches: every event that
/// arrived while the pump was storing the previous batch comes out at once, so a burst (a
/// router and the node after it, a run of answer deltas) is stored in one Redis round trip
/// instead of one each.
final class FlowEventQueue: Sendable {
    private struct State {
        var buffer: [FlowEvent] = []
        var finished = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())
    /// The most events one batch holds.
    let batchLimit: Int

    init(batchLimit: Int = 64) {
        self.batchLimit = batchLimit
    }

    /// Adds an event (the engine's `onEvent`); ignored once finished.
    func push(_ event: FlowEvent) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.finished else { return nil }
            state.buffer.append(event)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// No more events will come.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// The events buffered now, in order (waiting for one when there are none); nil once
    /// finished and drained. One consumer at a time.
    func nextBatch() async -> [FlowEvent]? {
        while true {
            enum Step {
                case batch([FlowEvent])
                case done
                case wait
            }
            let step = state.withLock { state -> Step in
                if !state.buffer.isEmpty {
                    let count = min(state.buffer.count, batchLimit)
                    let batch = Array(state.buffer.prefix(count))
                    state.buffer.removeFirst(count)
                    return .batch(batch)
                }
                return state.finished ? .done : .wait
            }
            switch step {
            case .batch(let batch): return batch
            case .done: return nil
            case .wait:
                await withCheckedContinuation { continuation in
                    let ready = state.withLock { state -> Bool in
                        if !state.buffer.isEmpty || state.finished { return true }
                        state.waiter = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            }
        }
    }
}
