public import NIOCore
public import NIOPosix
import Synchronization

/// A bounded pool of Redis connections with a wait timeout: the one way services talk to Redis.
///
/// Connections are driven by event loops of `eventLoopGroup` (a service passes its own, so a
/// call starts and ends on the loop its task runs on, with no thread switch). Connections open
/// on demand. One that failed, timed out, or was left in a transaction or on
/// another database is dropped when it comes back, and an idle one the server closed (a
/// restart) is noticed before use, so the pool recovers by itself.
///
/// Retrying: a command (or pipeline) runs a second time, on another connection, only when the
/// first attempt failed before any of it reached the server, so a retry can never apply a
/// command twice. This holds for every command, `INCR` and `LPUSH` included. A connection that
/// breaks after the command went out is reported as `connection` and not retried: the command
/// may or may not have run, and only the caller knows whether running it again is safe.
/// Timeouts are never retried either.
public final class RedisPool: Sendable {
    private enum Grant: Sendable {
        case connection(RedisConnection)
        case mayOpen
    }

    private struct State {
        var idle: [RedisConnection] = []
        var open = 0
        var waiters: [Int: CheckedContinuation<Grant, any Error>] = [:]
        var waiterOrder: [Int] = []
        var nextWaiter = 0
        var closed = false
    }

    /// The configuration.
    public let configuration: RedisConfiguration
    private let eventLoopGroup: any EventLoopGroup
    private let state = Mutex(State())
    /// Script source → SHA-1 the server reported for it.
    let scriptHashes = Mutex<[String: String]>([:])

    /// A pool; connections open when first needed, each on a loop of `eventLoopGroup`.
    public init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        precondition(configuration.maximumConnections > 0, "a Redis pool needs at least one connection")
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
    }

    /// Connections currently open (idle or in use).
    public var openConnections: Int { state.withLock { $0.open } }

    /// Runs one command; an error reply is thrown as a `server` `RedisError`. `timeout`
    /// replaces the command timeout for this call (for `BLPOP` and other blocking commands).
    public func send(_ arguments: [any RedisArgumentConvertible], timeout: Duration? = nil) async throws -> RedisReply {
        try await execute([arguments.map(\.redisArgument)], timeout: timeout)[0].throwingServerError()
    }

    /// Runs one command: `send("SET", key, value)`; an error reply is thrown as `server`.
    public func send(
        _ command: String, _ arguments: any RedisArgumentConvertible..., timeout: Duration? = nil
    ) async throws -> RedisReply {
        try await send([command] + arguments, timeout: timeout)
    }

    /// Runs one command whose arguments are spelled as `RedisArgument`s: `send("GET", .init(key))`.
    public func send(
        _ command: String, _ arguments: RedisArgument..., timeout: Duration? = nil
    ) async throws -> RedisReply {
        try await send([command] + arguments, timeout: timeout)
    }

    /// Sends all commands, then reads all replies: one round trip, replies in order. A
    /// command the server rejects gets `.error` in its slot; connection failures throw.
    public func pipeline(
        _ commands: [[any RedisArgumentConvertible]], timeout: Duration? = nil
    ) async throws -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        return try await execute(commands.map { $0.map(\.redisArgument) }, timeout: timeout)
    }

    /// Runs `body` with a connection of its own, for commands that must share one (`WATCH`,
    /// `MULTI`, `EXEC`). The connection goes back to the pool afterwards, unless `body` threw
    /// or left a transaction or watch open: then it is closed, so no one inherits that state.
    public func withConnection<R: Sendable>(_ body: (RedisSession) async throws -> R) async throws -> R {
        let connection = try await acquire()
        do {
            let result = try await body(RedisSession(connection: connection))
            release(connection)
            return result
        } catch {
            release(connection, discard: true)
            throw error
        }
    }

    /// Closes the idle connections; connections in use close when they come back, and waiting
    /// callers fail.
    public func close() {
        let (waiters, idle) = state.withLock { state in
            state.closed = true
            state.open -= state.idle.count
            defer {
                state.idle.removeAll()
                state.waiters.removeAll()
                state.waiterOrder.removeAll()
            }
            return (Array(state.waiters.values), state.idle)
        }
        for connection in idle { connection.close() }
        for waiter in waiters {
            waiter.resume(throwing: RedisError(code: .connection, message: "the Redis pool is closed"))
        }
    }

    /// Runs commands on a pooled connection, once more on another when nothing was delivered.
    private func execute(_ commands: [[RedisArgument]], timeout: Duration?) async throws -> [RedisReply] {
        do {
            return try await attempt(commands, timeout: timeout)
        } catch let first as RedisConnection.Undelivered where first.error.code == .connection {
            do {
                return try await attempt(commands, timeout: timeout)
            } catch let second as RedisConnection.Undelivered {
                throw second.error
            }
        } catch let undelivered as RedisConnection.Undelivered {
            throw undelivered.error
        }
    }

    private func attempt(_ commands: [[RedisArgument]], timeout: Duration?) async throws -> [RedisReply] {
        let connection = try await acquire()
        do {
            let replies = try await connection.perform(commands, timeout: timeout)
            release(connection)
            return replies
        } catch {
            release(connection, discard: true)
            throw error
        }
    }

    private func acquire() async throws -> RedisConnection {
        enum Next {
            case use(RedisConnection)
            case open
            case wait
        }
        let next: Next = try state.withLock { state in
            if state.closed { throw RedisError(code: .connection, message: "the Redis pool is closed") }
            if let connection = state.idle.popLast() { return .use(connection) }
            if state.open < configuration.maximumConnections {
                state.open += 1
                return .open
            }
            return .wait
        }
        let granted: RedisConnection
        switch next {
        case .use(let connection):
            granted = connection
        case .open:
            return try await open()
        case .wait:
            switch try await waitForGrant() {
            case .connection(let connection): granted = connection
            case .mayOpen: return try await open()
            }
        }
        // The server closed it while it was idle: open a new one in its slot.
        return granted.isClosedByPeer ? try await open() : granted
    }

    /// Opens a connection in a slot already counted in `open`; gives the slot back on failure.
    private func open() async throws -> RedisConnection {
        // The caller's loop when it runs on one of the group's, so its calls need no hop.
        let eventLoop = eventLoopGroup.any()
        do {
            return try await RedisConnection.connect(configuration: configuration, eventLoop: eventLoop)
        } catch {
            handBackSlot()
            throw error
        }
    }

    private func waitForGrant() async throws -> Grant {
        let timeout = configuration.waitTimeout
        let size = configuration.maximumConnections
        return try await withCheckedThrowingContinuation { continuation in
            let id = state.withLock { state in
                let id = state.nextWaiter
                state.nextWaiter += 1
                state.waiters[id] = continuation
                state.waiterOrder.append(id)
                return id
            }
            Task {
                try? await Task.sleep(for: timeout)
                let expired = self.state.withLock { state -> CheckedContinuation<Grant, any Error>? in
                    state.waiterOrder.removeAll { $0 == id }
                    return state.waiters.removeValue(forKey: id)
                }
                expired?.resume(
                    throwing: RedisError(
                        code: .poolTimeout,
                        message: "no Redis connection became free within \(timeout) (pool of \(size))"))
            }
        }
    }

    private func nextWaiter(_ state: inout State) -> CheckedContinuation<Grant, any Error>? {
        while !state.waiterOrder.isEmpty {
            let id = state.waiterOrder.removeFirst()
            if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
        }
        return nil
    }

    /// Takes a connection back: to the next waiter, to the idle list, or closed when it
    /// failed or carries state (`discard`, or not reusable).
    private func release(_ connection: RedisConnection, discard: Bool = false) {
        let keep = !discard && connection.isReusable
        let (waiter, grant): (CheckedContinuation<Grant, any Error>?, Grant?) = state.withLock { state in
            if state.closed || !keep {
                state.open -= 1
                guard !state.closed, let waiter = nextWaiter(&state) else { return (nil, nil) }
                state.open += 1
                return (waiter, .mayOpen)
            }
            if let waiter = nextWaiter(&state) { return (waiter, .connection(connection)) }
            state.idle.append(connection)
            return (nil, nil)
        }
        if let waiter, let grant { waiter.resume(returning: grant) }
    }

    private func handBackSlot() {
        let waiter = state.withLock { state -> CheckedContinuation<Grant, any Error>? in
            state.open -= 1
            guard !state.closed, let waiter = nextWaiter(&state) else { return nil }
            state.open += 1
            return waiter
        }
        waiter?.resume(returning: .mayOpen)
    }
}

extension RedisReply {
    /// The reply, or the `server` error it carries.
    func throwingServerError() throws -> RedisReply {
        if case .error(let message) = self { throw RedisError(code: .server, message: message) }
        return self
    }
}
