import Dispatch
import Glibc
import Synchronization

/// Catches SIGTERM and SIGINT from the moment a service process starts, so that a signal that
/// arrives while it is still starting (already listening, but before the service group runs
/// and installs its own handlers) still starts the graceful shutdown instead of killing the
/// process with calls in flight.
/// (`@unchecked`: the dispatch sources are set once in `init` and only kept alive afterwards.)
public final class SignalLatch: @unchecked Sendable {
    private struct State {
        var received = false
        var action: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())
    private let sources: [any DispatchSourceSignal]

    /// Starts catching SIGTERM and SIGINT.
    public init() {
        let queue = DispatchQueue(label: "agentplane.signals")
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
            // Dispatch sources see the signal only once the default action (terminate) is off.
            signal(number, SIG_IGN)
            sources.append(DispatchSource.makeSignalSource(signal: number, queue: queue))
        }
        self.sources = sources
        for source in sources {
            source.setEventHandler { [weak self] in self?.fire() }
            source.resume()
        }
    }

    /// Runs `action` on the first signal (replacing an earlier action), or now if a signal
    /// came already.
    public func onSignal(_ action: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            state.action = action
            return state.received
        }
        if runNow { action() }
    }

    private func fire() {
        let action = state.withLock { state -> (@Sendable () -> Void)? in
            defer { state.received = true }
            return state.received ? nil : state.action
        }
        action?()
    }
}
