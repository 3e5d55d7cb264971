import NIOCore
public import NIOPosix

/// Makes NIO's process-wide group of event loops Swift Concurrency's global executor, so a
/// task started anywhere (a run, an outbox loop, an actor's work) runs on the loops that do
/// the process's network I/O rather than on a pool of threads of its own, and a call that
/// starts on a loop ends on it without a thread switch.
public enum EventLoopTakeover {
    /// Sizes the group (`EVENT_LOOP_THREADS`) and installs it; the group for the server and
    /// the peers' clients. Call once, first thing in an executable: if the hook cannot be
    /// installed (another one is), tasks keep the default pool and the group still serves.
    public static func install(threads: Int) -> MultiThreadedEventLoopGroup {
        NIOSingletons.groupLoopCountSuggestion = threads
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        return MultiThreadedEventLoopGroup.singleton
    }
}
