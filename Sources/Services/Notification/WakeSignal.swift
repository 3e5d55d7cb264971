import Runtime
import Synchronization

/// Wakes idle dispatcher workers when Notify has recorded a delivery, so the first attempt
/// starts at once instead of at the next poll.
final class WakeSignal: Sendable {
    private struct State {
        var generation = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var cancelled: Set<Int> = []
        var nextID = 0
    }

    private let state = Mutex(State())

    /// Counts wake-ups; a worker reads it before looking for work, so a wake-up that arrives
    /// while it looks is not lost.
    var generation: Int { state.withLock { $0.generation } }

    /// Wakes every waiting worker.
    func wake() {
        let waiters = state.withLock { state in
            state.generation += 1
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns after `timeout`, at a wake-up, or at once if one happened since `generation`.
    func wait(since generation: Int, upTo timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await EventLoopSleep.sleep(for: timeout) }
            group.addTask { await self.waitForWake(since: generation) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForWake(since generation: Int) async {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    let cancelled = state.cancelled.remove(id) != nil
                    if cancelled || state.generation != generation { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                guard let waiter = state.waiters.removeValue(forKey: id) else {
                    state.cancelled.insert(id)
                    return nil as CheckedContinuation<Void, Never>?
                }
                return waiter
            }
            waiter?.resume()
        }
    }
}
