public import NIOCore
import NIOPosix
import Saturating
import Synchronization

/// `Task.sleep` on the event loop's own timers.
///
/// Swift's `Task.sleep` arms a Dispatch timer even when the task runs on NIO's loops (NIO's
/// takeover replaces the global executor's queue, not its timers): Dispatch's manager thread
/// wakes to arm and to fire it, and the task resumes on one of Dispatch's worker threads before
/// it hops back to the loop. A run arms several (its time limit, each node's timeout, its lease
/// renewal and progress interval), most of them cancelled after milliseconds. This sleep waits
/// in the current loop's timer queue instead: arming and cancelling cost no system call and no
/// thread switch.
public enum EventLoopSleep {
    /// Waits `duration` (at most a century); throws `CancellationError` at once when the task is
    /// cancelled, as `Task.sleep` does.
    public static func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? MultiThreadedEventLoopGroup.singleton.any()
        let nanoseconds = min(max(0, duration.saturatingNanoseconds), Self.longest)
        let wait = Wait()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let timer = loop.scheduleTask(in: .nanoseconds(nanoseconds)) { wait.end(cancelled: false) }
                wait.begin(continuation, timer: timer)
            }
        } onCancel: {
            wait.end(cancelled: true)
        }
    }

    /// A century, in nanoseconds: longer waits are cut to it.
    private static let longest: Int64 = 100 * 365 * 86_400 * 1_000_000_000

    /// One sleep's continuation and timer; whichever of the timer and a cancellation comes
    /// first ends it, the other finds nothing to do. Either may come before the continuation
    /// is registered (a cancellation, or a timer due at once on another loop): `begin` then
    /// ends the sleep as it was decided.
    private final class Wait: Sendable {
        private struct State {
            var continuation: CheckedContinuation<Void, any Error>?
            var timer: Scheduled<Void>?
            /// How it ended before `begin`: true cancelled, false the timer fired.
            var endedEarly: Bool?
            var ended = false
        }

        private let state = Mutex(State())

        func begin(_ continuation: CheckedContinuation<Void, any Error>, timer: Scheduled<Void>) {
            let early = state.withLock { state -> Bool? in
                if let early = state.endedEarly {
                    state.ended = true
                    return early
                }
                state.continuation = continuation
                state.timer = timer
                return nil
            }
            switch early {
            case true?:
                timer.cancel()
                continuation.resume(throwing: CancellationError())
            case false?:
                continuation.resume()
            case nil:
                break
            }
        }

        func end(cancelled: Bool) {
            let taken = state.withLock { state -> (CheckedContinuation<Void, any Error>, Scheduled<Void>?)? in
                guard !state.ended else { return nil }
                guard let continuation = state.continuation else {
                    if state.endedEarly == nil { state.endedEarly = cancelled }
                    return nil
                }
                state.ended = true
                state.continuation = nil
                defer { state.timer = nil }
                return (continuation, state.timer)
            }
            guard let (continuation, timer) = taken else { return }
            if cancelled {
                timer?.cancel()
                continuation.resume(throwing: CancellationError())
            } else {
                continuation.resume()
            }
        }
    }
}
