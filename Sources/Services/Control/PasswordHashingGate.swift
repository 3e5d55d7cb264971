import RPCCore
import Runtime

/// Bounds the scrypt computations of one control-plane process: at most `maximumConcurrent`
/// run at once (each takes a core and 32 MiB for about 0.1 s), at most `maximumQueued` more
/// wait for a turn (first come, first served); past that a call is refused at once with
/// RESOURCE_EXHAUSTED instead of piling up CPU and memory (`PASSWORD_HASH_CONCURRENCY`,
/// `PASSWORD_HASH_QUEUE`).
actor PasswordHashingGate {
    let maximumConcurrent: Int
    let maximumQueued: Int
    /// Computations holding a turn (running, or handed a turn and about to run).
    private(set) var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// Computations waiting for a turn.
    var queued: Int { waiting.count }

    init(maximumConcurrent: Int, maximumQueued: Int) {
        self.maximumConcurrent = max(1, maximumConcurrent)
        self.maximumQueued = max(0, maximumQueued)
    }

    /// Runs `work` off the caller's thread once a turn is free; throws RESOURCE_EXHAUSTED
    /// (`PASSWORD_HASHING_BUSY`, retry in a second) when every turn is taken and the queue is full.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await Offload.run(work)
    }

    private func acquire() async throws {
        if running < maximumConcurrent {
            running += 1
            return
        }
        guard waiting.count < maximumQueued else { throw Self.busy }
        // `release` hands its turn over without giving it back, so `running` stays counted.
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty {
            running -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }

    /// The answer past the queue (built per call, so it carries the call's request id).
    static var busy: RPCError {
        RPCError.withDetails(
            .resourceExhausted, "sign-in is busy: too many password checks at once; retry in a moment",
            reason: "PASSWORD_HASHING_BUSY", retryAfter: .seconds(1))
    }
}
