import NIOCore
import NIOPosix
import Saturating

/// One connection to Redis, driven by an event loop: commands go out and replies come back
/// on the loop (through `RedisChannelHandler`), so a call costs no thread switch of its own.
/// The pool hands a connection to one caller at a time.
final class RedisConnection: @unchecked Sendable {
    /// A failure before any byte of the commands reached the server: running them again on
    /// another connection cannot apply them twice.
    struct Undelivered: Error {
        var error: RedisError
    }

    private let channel: any Channel
    private let handler: NIOLoopBound<RedisChannelHandler>
    private let commandTimeout: Duration
    /// Connection state a later user must not inherit (a transaction, a watch, another
    /// database). Touched only by the caller that holds the connection.
    private var session = SessionState()
    /// Set when a call failed part-way; such a connection is never used again.
    private var broken = false

    private init(channel: any Channel, handler: NIOLoopBound<RedisChannelHandler>, commandTimeout: Duration) {
        self.channel = channel
        self.handler = handler
        self.commandTimeout = commandTimeout
    }

    /// Connects on `eventLoop`, authenticates and selects the database, within the connect
    /// timeout for the connection and the command timeout for each set-up command.
    static func connect(configuration: RedisConfiguration, eventLoop: any EventLoop) async throws -> RedisConnection {
        let address = "\(configuration.host):\(configuration.port)"
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.nanoseconds(max(1, configuration.connectTimeout.saturatingNanoseconds)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            // Without it, a command on a connection that dies silently (a half-open socket) would
            // only end at the command timeout; with it the kernel notices idle dead peers as well.
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RedisChannelHandler())
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch {
            throw RedisError(code: .connection, message: "cannot connect to Redis at \(address): \(error)")
        }
        let connection: RedisConnection
        do {
            let handler = try await channel.eventLoop.submit {
                NIOLoopBound(
                    try channel.pipeline.syncOperations.handler(type: RedisChannelHandler.self),
                    eventLoop: channel.eventLoop)
            }.get()
            connection = RedisConnection(
                channel: channel, handler: handler, commandTimeout: configuration.commandTimeout)
        } catch {
            channel.close(promise: nil)
            throw RedisError(code: .connection, message: "cannot set up the connection to \(address): \(error)")
        }
        if let password = configuration.password {
            let command: [any RedisArgumentConvertible] =
                ["AUTH"] + (configuration.username.map { [$0] } ?? []) + [password]
            if case .error(let message) = try await connection.setUp(command) {
                throw RedisError(code: .connection, message: "authentication to \(address) failed: \(message)")
            }
        }
        if configuration.database != 0,
            case .error(let message) = try await connection.setUp(["SELECT", configuration.database])
        {
            throw RedisError(code: .connection, message: "cannot select database \(configuration.database): \(message)")
        }
        // AUTH and SELECT set the state every connection of the pool shares: nothing to undo.
        connection.session = SessionState()
        return connection
    }

    deinit {
        channel.close(promise: nil)
    }

    /// Whether the pool may hand this connection to someone else: it has not failed and
    /// carries no transaction, watch or other state the next user would inherit.
    var isReusable: Bool { !broken && channel.isActive && session.isClean }

    /// Whether the server closed this idle connection (it restarted, or dropped idle clients):
    /// the loop saw the end of the stream, so the pool drops it before sending anything on it.
    var isClosedByPeer: Bool { !channel.isActive }

    /// Closes the connection.
    func close() {
        channel.close(promise: nil)
    }

    /// Sends all commands in one write, then waits for one reply each: one round trip. Error
    /// replies come back as `.error` values. `timeout` replaces the command timeout for this call.
    ///
    /// Throws `Undelivered` when nothing reached the server, else a `RedisError`
    /// (`connection`, `timeout`, `protocol`); after either, the connection is not reusable.
    func perform(_ commands: [[RedisArgument]], timeout: Duration?) async throws -> [RedisReply] {
        guard !broken, channel.isActive else {
            throw Undelivered(error: RedisError(code: .connection, message: "the connection failed earlier"))
        }
        guard !commands.isEmpty, commands.allSatisfy({ !$0.isEmpty }) else {
            throw Undelivered(error: RedisError(code: .invalidArgument, message: "a command needs at least its name"))
        }
        for command in commands { session.note(command) }
        let eventLoop = channel.eventLoop
        let promise = eventLoop.makePromise(of: [RedisReply].self)
        let timeout = timeout ?? commandTimeout
        if eventLoop.inEventLoop {
            handler.value.send(commands, timeout: timeout, promise: promise)
        } else {
            let handler = handler
            eventLoop.execute { handler.value.send(commands, timeout: timeout, promise: promise) }
        }
        do {
            // A cancelled caller still waits for its replies (bounded by the timeout): cleanup
            // code of a cancelled task must be able to write, and the replies keep the
            // connection in step for its next user.
            return try await promise.futureResult.get()
        } catch {
            // Whatever went wrong, the stream may hold half a command or a late reply.
            broken = true
            throw error
        }
    }

    /// One command's reply, during set-up.
    private func setUp(_ command: [any RedisArgumentConvertible]) async throws -> RedisReply {
        do {
            return try await perform([command.map(\.redisArgument)], timeout: nil)[0]
        } catch let undelivered as Undelivered {
            throw undelivered.error
        }
    }
}

/// The per-connection state some commands leave behind, tracked so that a connection in a
/// transaction, watching keys, on another database or in a special mode is discarded rather
/// than handed to the next caller.
private struct SessionState {
    private var inTransaction = false
    private var watching = false
    private var altered = false

    var isClean: Bool { !inTransaction && !watching && !altered }

    mutating func note(_ command: [RedisArgument]) {
        switch Self.upper(command[0]) {
        case "MULTI":
            inTransaction = true
        case "EXEC", "DISCARD":
            inTransaction = false
            watching = false
        case "WATCH":
            watching = true
        case "UNWATCH":
            watching = false
        case "SELECT", "SWAPDB", "AUTH", "HELLO", "RESET", "QUIT", "READONLY", "READWRITE", "MONITOR", "SUBSCRIBE",
            "PSUBSCRIBE", "SSUBSCRIBE", "SYNC", "PSYNC":
            altered = true
        case "CLIENT":
            let harmless: Set = ["ID", "INFO", "LIST", "GETNAME", "KILL", "PAUSE", "UNPAUSE", "HELP"]
            if command.count < 2 || !harmless.contains(Self.upper(command[1])) { altered = true }
        default:
            break
        }
    }

    private static func upper(_ argument: RedisArgument) -> String {
        String(decoding: argument.bytes.prefix(16), as: UTF8.self).uppercased()
    }
}
