/// A connection checked out of the pool with `RedisPool.withConnection`: its commands run in
/// order on the same connection, so `WATCH` / `MULTI` / `EXEC` work. Nothing is retried here.
public struct RedisSession: Sendable {
    let connection: RedisConnection

    /// Runs one command; an error reply is thrown as a `server` `RedisError`. `timeout`
    /// replaces the command timeout for this call.
    public func send(_ arguments: [any RedisArgumentConvertible], timeout: Duration? = nil) async throws -> RedisReply {
        try await run([arguments.map(\.redisArgument)], timeout: timeout)[0].throwingServerError()
    }

    /// Runs one command: `send("WATCH", key)`; an error reply is thrown as `server`.
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

    /// Sends all commands, then reads all replies, in one round trip; a rejected command gets
    /// `.error` in its slot.
    public func pipeline(
        _ commands: [[any RedisArgumentConvertible]], timeout: Duration? = nil
    ) async throws -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        return try await run(commands.map { $0.map(\.redisArgument) }, timeout: timeout)
    }

    private func run(_ commands: [[RedisArgument]], timeout: Duration?) async throws -> [RedisReply] {
        do {
            return try await connection.perform(commands, timeout: timeout)
        } catch let undelivered as RedisConnection.Undelivered {
            throw undelivered.error
        }
    }
}
