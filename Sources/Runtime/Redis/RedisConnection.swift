private import CHiredis
import Dispatch
import Glibc
import Saturating

/// One hiredis connection. It owns the `redisContext` and frees it in `deinit`. Every call
/// blocks, so the pool runs them on the connection's own dispatch queue, never on an event loop.
final class RedisConnection: @unchecked Sendable {
    /// A failure before any byte of the commands reached the server: running them again on
    /// another connection cannot apply them twice.
    struct Undelivered: Error {
        var error: RedisError
    }

    private let context: UnsafeMutablePointer<redisContext>
    private let commandTimeout: Duration
    /// Where this connection's blocking calls run, one at a time.
    let queue = DispatchQueue(label: "agentplane.redis.connection")
    /// Connection state a later user must not inherit (a transaction, a watch, another
    /// database). Touched only by the call that holds the connection.
    private var session = SessionState()
    /// Set when a call failed part-way; such a connection is never used again.
    private var broken = false

    /// Connects, authenticates and selects the database; blocks for up to the connect timeout.
    init(configuration: RedisConfiguration) throws {
        let address = "\(configuration.host):\(configuration.port)"
        guard
            let context = redisConnectWithTimeout(
                configuration.host, Int32(configuration.port), timeval(configuration.connectTimeout))
        else {
            throw RedisError(code: .connection, message: "hiredis could not allocate a connection to \(address)")
        }
        guard context.pointee.err == 0 else {
            let message = Self.errorText(context)
            redisFree(context)
            throw RedisError(code: .connection, message: "cannot connect to Redis at \(address): \(message)")
        }
        // Without it, a command on a connection that dies silently (a half-open socket) would
        // only end at the command timeout; with it the kernel notices idle dead peers as well.
        _ = redisEnableKeepAlive(context)
        self.context = context
        self.commandTimeout = configuration.commandTimeout
        guard redisSetTimeout(context, timeval(configuration.commandTimeout)) == REDIS_OK else {
            throw RedisError(code: .connection, message: "cannot set the command timeout: \(Self.errorText(context))")
        }
        if let password = configuration.password {
            let command = ["AUTH"] + (configuration.username.map { [$0] } ?? []) + [password]
            if case .error(let message) = try reply(to: command) {
                throw RedisError(code: .connection, message: "authentication to \(address) failed: \(message)")
            }
        }
        if configuration.database != 0, case .error(let message) = try reply(to: ["SELECT", configuration.database]) {
            throw RedisError(code: .connection, message: "cannot select database \(configuration.database): \(message)")
        }
        // AUTH and SELECT set the state every connection of the pool shares: nothing to undo.
        session = SessionState()
    }

    deinit {
        redisFree(context)
    }

    /// Whether the pool may hand this connection to someone else: it has not failed and
    /// carries no transaction, watch or other state the next user would inherit.
    var isReusable: Bool { !broken && context.pointee.err == 0 && session.isClean }

    /// Whether the server closed this idle connection (it restarted, or dropped idle clients).
    /// An idle connection never has anything to read, so readable means end of stream; this
    /// check does not block and lets the pool drop it before sending anything on it.
    var isClosedByPeer: Bool {
        var descriptor = pollfd(fd: context.pointee.fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) != 0
    }

    /// Sends all commands, then reads one reply each: one round trip. Error replies come back
    /// as `.error` values. `timeout` replaces the command timeout for this call.
    ///
    /// Throws `Undelivered` when nothing reached the server, else a `RedisError`
    /// (`connection`, `timeout`, `protocol`); after either, the connection is not reusable.
    func run(_ commands: [[RedisArgument]], timeout: Duration?) throws -> [RedisReply] {
        guard !broken, context.pointee.err == 0 else {
            throw Undelivered(error: RedisError(code: .connection, message: "the connection failed earlier"))
        }
        guard commands.allSatisfy({ !$0.isEmpty }) else {
            throw Undelivered(error: RedisError(code: .invalidArgument, message: "a command needs at least its name"))
        }
        do {
            return try exchange(commands, timeout: timeout)
        } catch {
            // Whatever went wrong, the stream may hold half a command or a late reply.
            broken = true
            throw error
        }
    }

    private func exchange(_ commands: [[RedisArgument]], timeout: Duration?) throws -> [RedisReply] {
        if let timeout, timeout != commandTimeout {
            guard redisSetTimeout(context, timeval(timeout)) == REDIS_OK else {
                throw Undelivered(error: failure())
            }
        }
        for command in commands {
            try append(command)
            session.note(command)
        }
        try flush(commandCount: commands.count)
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw failure() }
            replies.append(Self.convert(raw.assumingMemoryBound(to: redisReply.self)))
            freeReplyObject(raw)
        }
        if let timeout, timeout != commandTimeout {
            guard redisSetTimeout(context, timeval(commandTimeout)) == REDIS_OK else { throw failure() }
        }
        return replies
    }

    /// One command's reply, during set-up.
    private func reply(to command: [any RedisArgumentConvertible]) throws -> RedisReply {
        do {
            return try run([command.map(\.redisArgument)], timeout: nil)[0]
        } catch let undelivered as Undelivered {
            throw undelivered.error
        }
    }

    /// Formats one command into hiredis's output buffer: every argument with its explicit
    /// length, so its bytes are data whatever they contain.
    private func append(_ command: [RedisArgument]) throws {
        // One buffer for all arguments (plus a byte, so it is never empty and has an address).
        var storage: [UInt8] = []
        storage.reserveCapacity(command.reduce(1) { $0 + $1.bytes.count })
        var offsets: [Int] = []
        for argument in command {
            offsets.append(storage.count)
            storage.append(contentsOf: argument.bytes)
        }
        storage.append(0)
        let lengths = command.map(\.bytes.count)
        let status = storage.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { base in
                var pointers: [UnsafePointer<CChar>?] = offsets.map { UnsafePointer(base + $0) }
                return redisAppendCommandArgv(context, Int32(command.count), &pointers, lengths)
            }
        }
        guard status == REDIS_OK else { throw Undelivered(error: failure()) }
    }

    /// Writes the output buffer. A failure on the first write sent nothing; a later one may
    /// have delivered whole commands of a pipeline, but never the whole of a single command.
    private func flush(commandCount: Int) throws {
        var done: Int32 = 0
        var writes = 0
        while done == 0 {
            writes += 1
            guard withoutBrokenPipeSignal({ redisBufferWrite(context, &done) }) == REDIS_OK else {
                let error = failure()
                if error.code == .connection && (writes == 1 || commandCount == 1) { throw Undelivered(error: error) }
                throw error
            }
        }
    }

    /// The error hiredis recorded for the call that just failed; `errno` still holds the
    /// call's cause because nothing ran on this thread since.
    private func failure() -> RedisError {
        let code = errno
        let message = Self.errorText(context)
        switch Int32(context.pointee.err) {
        case REDIS_ERR_IO where code == EAGAIN || code == EWOULDBLOCK || message == String(cString: strerror(EAGAIN)):
            return RedisError(code: .timeout, message: "Redis did not answer in time; the connection was discarded")
        case REDIS_ERR_PROTOCOL:
            return RedisError(code: .protocol, message: message)
        case REDIS_ERR_OOM:
            return RedisError(code: .connection, message: "out of memory: \(message)")
        default:
            return RedisError(code: .connection, message: message.isEmpty ? "the connection failed" : message)
        }
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    private static func convert(_ pointer: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let reply = pointer.pointee
        func bytes() -> [UInt8] {
            guard let text = reply.str, reply.len > 0 else { return [] }
            return text.withMemoryRebound(to: UInt8.self, capacity: reply.len) {
                Array(UnsafeBufferPointer(start: $0, count: reply.len))
            }
        }
        switch reply.type {
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(reply.integer))
        case REDIS_REPLY_STRING:
            return .bulk(bytes())
        case REDIS_REPLY_ARRAY:
            return .array((0..<reply.elements).map { index in reply.element[index].map(convert) ?? .null })
        default:
            return .null
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

/// Runs `write` with SIGPIPE blocked on this thread, and discards a SIGPIPE it raised.
///
/// hiredis writes with write(2), and writing to a connection the server has closed raises
/// SIGPIPE, whose default action ends the process. The write fails with EPIPE instead, which
/// becomes a `connection` error. This is libpq's approach: it leaves the process's signal
/// handling alone, where `signal(SIGPIPE, SIG_IGN)` would change it for every library.
private func withoutBrokenPipeSignal<R>(_ write: () -> R) -> R {
    var brokenPipe = sigset_t()
    sigemptyset(&brokenPipe)
    sigaddset(&brokenPipe, SIGPIPE)
    var pending = sigset_t()
    sigpending(&pending)
    // One already pending is someone else's: leave it to be delivered.
    let pendingBefore = sigismember(&pending, SIGPIPE) == 1
    var previousMask = sigset_t()
    pthread_sigmask(SIG_BLOCK, &brokenPipe, &previousMask)
    defer {
        if !pendingBefore {
            sigpending(&pending)
            if sigismember(&pending, SIGPIPE) == 1 {
                var immediately = timespec()
                _ = sigtimedwait(&brokenPipe, nil, &immediately)
            }
        }
        pthread_sigmask(SIG_SETMASK, &previousMask, nil)
    }
    return write()
}

extension timeval {
    /// A socket timeout; at least one microsecond, since zero would mean "wait forever".
    fileprivate init(_ duration: Duration) {
        let total = max(1, duration.saturatingMicroseconds)
        self.init(tv_sec: Int(total / 1_000_000), tv_usec: Int(total % 1_000_000))
    }
}
