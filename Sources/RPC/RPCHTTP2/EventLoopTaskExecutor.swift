public import NIOCore

/// Runs tasks on a NIO event loop, so a handler started from the loop stays on it across
/// suspensions instead of hopping to the global pool and back.
public final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    /// The loop jobs run on.
    public let loop: any EventLoop

    /// An executor for `loop`.
    public init(loop: any EventLoop) {
        self.loop = loop
    }

    /// Runs the job on the loop.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
