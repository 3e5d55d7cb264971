import Dispatch

/// Runs the jobs of the task that holds a connection on that connection's dispatch queue, so
/// the task's statements run there inline (blocking only that queue) instead of hopping to the
/// queue and back for each one: two thread switches per transaction rather than two per
/// statement.
final class ConnectionExecutor: TaskExecutor, @unchecked Sendable {
    /// Where the connection's blocking calls run.
    let queue: DispatchQueue
    private static let key = DispatchSpecificKey<ObjectIdentifier>()

    init(label: String) {
        queue = DispatchQueue(label: label)
        queue.setSpecific(key: Self.key, value: ObjectIdentifier(self))
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// Whether the caller runs on this executor's queue now.
    var isCurrent: Bool { DispatchQueue.getSpecific(key: Self.key) == ObjectIdentifier(self) }
}
