import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import RuntimeRedis

/// The shared test Redis: REDIS_URL, or the server `scripts/infra start` runs.
private let sharedRedisURL = ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:56379/0"

/// How the event-loop-driven Redis connection fails: replies matched to their batch, servers
/// that misbehave, and callers that go away.
@Suite("Redis connections on the event loop", .serialized)
struct RedisConnectionFailureTests {
    // MARK: - The exchange state machine, without I/O

    @Test func repliesCompleteTheirBatchInOrder() {
        var exchange = RedisExchangeState()
        let first = exchange.sent(count: 3)
        let overlapping = exchange.sent(count: 1)  // One batch at a time.
        let afterOne = exchange.received(.status("OK"))
        let afterTwo = exchange.received(.integer(2))
        let afterThree = exchange.received(.null)
        #expect(first && !overlapping)
        #expect(afterOne == .wait && afterTwo == .wait)
        #expect(afterThree == .complete([.status("OK"), .integer(2), .null]))
        #expect(!exchange.isAwaiting)
        let next = exchange.sent(count: 1)
        let errorReply = exchange.received(.error("ERR x"))
        #expect(next && errorReply == .complete([.error("ERR x")]))
    }

    @Test func aReplyNobodyAskedForFailsTheConnection() {
        var exchange = RedisExchangeState()
        let unasked = exchange.received(.status("OK"))
        #expect(unasked == .unexpectedReply)
        #expect(exchange.isFailed)
        let later = exchange.sent(count: 1)
        #expect(!later)
    }

    @Test func aFailureReportsTheBatchInFlightAndStaysFailed() {
        var idle = RedisExchangeState()
        let idleHadBatch = idle.failed()
        #expect(!idleHadBatch)  // Nothing was in flight.
        var busy = RedisExchangeState()
        let sent = busy.sent(count: 2)
        let partial = busy.received(.status("OK"))
        let busyHadBatch = busy.failed()
        let resent = busy.sent(count: 1)
        let late = busy.received(.status("OK"))
        #expect(sent && partial == .wait && busyHadBatch)
        #expect(!resent && late == .unexpectedReply)
        var empty = RedisExchangeState()
        let nothing = empty.sent(count: 0)
        #expect(!nothing)
    }

    // MARK: - Servers that misbehave

    @Test func bytesThatAreNotRESPAreAProtocolErrorAndTheConnectionIsDropped() async throws {
        let server = try await ScriptedServer.start { _, _ in ByteBuffer(string: "?this is not RESP\r\n") }
        defer { server.stop() }
        let pool = server.pool()
        defer { pool.close() }
        let error = await #expect(throws: RedisError.self) { _ = try await pool.send("PING") }
        #expect(error?.code == .protocol)
        #expect(pool.openConnections == 0)
    }

    @Test func aConnectionLostInTheMiddleOfAPipelineIsNotRetried() async throws {
        // Two replies of three, then the server hangs up: the first two commands ran, so
        // running the pipeline again elsewhere could apply them twice.
        let server = try await ScriptedServer.start { _, _ in ByteBuffer(string: "+OK\r\n:1\r\n") }
        server.closeAfterReply = true
        defer { server.stop() }
        let pool = server.pool()
        defer { pool.close() }
        let error = await #expect(throws: RedisError.self) {
            _ = try await pool.pipeline([["SET", "a", 1], ["INCR", "b"], ["INCR", "c"]])
        }
        #expect(error?.code == .connection)
        #expect(server.connections == 1)
        #expect(pool.openConnections == 0)
    }

    @Test func aReplyCutShortByTheServerIsAConnectionError() async throws {
        let server = try await ScriptedServer.start { _, _ in ByteBuffer(string: "$10\r\nhalf") }
        server.closeAfterReply = true
        defer { server.stop() }
        let pool = server.pool()
        defer { pool.close() }
        let error = await #expect(throws: RedisError.self) { _ = try await pool.send("GET", "k") }
        #expect(error?.code == .connection)
    }

    @Test func aServerThatNeverAnswersTimesOut() async throws {
        let server = try await ScriptedServer.start { _, _ in nil }
        defer { server.stop() }
        let pool = server.pool(commandTimeout: .milliseconds(200))
        defer { pool.close() }
        let start = ContinuousClock.now
        let error = await #expect(throws: RedisError.self) { _ = try await pool.send("PING") }
        #expect(error?.code == .timeout)
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(pool.openConnections == 0)
    }

    @Test func nothingListeningIsAConnectionError() async throws {
        let server = try await ScriptedServer.start { _, _ in nil }
        let port = server.port
        await server.stopped()
        let pool = RedisPool(
            configuration: try RedisConfiguration(
                url: "redis://127.0.0.1:\(port)/0", maximumConnections: 2, connectTimeout: .seconds(1)))
        defer { pool.close() }
        let start = ContinuousClock.now
        let error = await #expect(throws: RedisError.self) { _ = try await pool.send("PING") }
        #expect(error?.code == .connection)
        #expect(error?.message.contains("cannot connect") == true)
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(pool.openConnections == 0)
    }

    // MARK: - Callers that go away

    @Test func aCancelledCallStillGetsItsRepliesAndTheConnectionStaysInStep() async throws {
        let pool = RedisPool(configuration: try RedisConfiguration(url: sharedRedisURL, maximumConnections: 1))
        defer { pool.close() }
        let key = "test:redis-cancel:\(UInt64.random(in: 0...UInt64.max))"
        let blocked = Task { try await pool.send("BLPOP", key, 0.3, timeout: .seconds(3)) }
        try await Task.sleep(for: .milliseconds(50))
        blocked.cancel()
        // The call ends with its own reply (a timed-out pop), not with a reply meant for the
        // next caller on the same connection.
        #expect(try await blocked.value == .null)
        #expect(try await pool.send("ECHO", "next") == .bulk(Array("next".utf8)))
        #expect(pool.openConnections == 1)
    }

    @Test func callsFromManyLoopsShareTheConnectionsSafely() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 3)
        let pool = RedisPool(
            configuration: try RedisConfiguration(url: sharedRedisURL, maximumConnections: 4), eventLoopGroup: group)
        let key = "test:redis-loops:\(UInt64.random(in: 0...UInt64.max))"
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for index in 0..<300 {
                tasks.addTask {
                    let echoed = try await pool.send("ECHO", "m\(index)").string()
                    #expect(echoed == "m\(index)")
                }
                tasks.addTask { _ = try await pool.send("INCR", key) }
            }
            try await tasks.waitForAll()
        }
        #expect(try await pool.send("GET", key).int() == 300)
        _ = try await pool.send("DEL", key)
        #expect(pool.openConnections <= 4)
        pool.close()
        try await group.shutdownGracefully()
    }
}

/// A TCP server that answers whatever it reads with what `reply` returns (nil: nothing),
/// optionally hanging up after the first reply: a Redis that misbehaves on cue.
private final class ScriptedServer: Sendable {
    private let channel: any Channel
    private let accepted = Atomic<Int>(0)
    private let hangUp = Atomic<Bool>(false)

    /// The port it listens on.
    var port: Int { channel.localAddress?.port ?? 0 }
    /// Connections accepted so far.
    var connections: Int { accepted.load(ordering: .relaxed) }
    /// Whether a connection closes right after its first reply.
    var closeAfterReply: Bool {
        get { hangUp.load(ordering: .relaxed) }
        set { hangUp.store(newValue, ordering: .relaxed) }
    }

    private init(channel: any Channel) {
        self.channel = channel
    }

    static func start(
        reply: @escaping @Sendable (ByteBuffer, Int) -> ByteBuffer?
    ) async throws -> ScriptedServer {
        let box = Mutex<ScriptedServer?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    guard let server = box.withLock({ $0 }) else { return }
                    let count = server.accepted.add(1, ordering: .relaxed).newValue
                    try child.pipeline.syncOperations.addHandler(
                        Responder(number: count, reply: reply, hangUp: { server.closeAfterReply }))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let server = ScriptedServer(channel: channel)
        box.withLock { $0 = server }
        return server
    }

    /// A pool of two connections to this server.
    func pool(commandTimeout: Duration = .seconds(2)) -> RedisPool {
        RedisPool(
            configuration: RedisConfiguration(
                host: "127.0.0.1", port: port, maximumConnections: 2, connectTimeout: .seconds(1),
                commandTimeout: commandTimeout, waitTimeout: .seconds(2)))
    }

    func stop() {
        channel.close(promise: nil)
    }

    /// Stops listening, and returns once the port is closed.
    func stopped() async {
        try? await channel.close()
    }

    private final class Responder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let number: Int
        let reply: @Sendable (ByteBuffer, Int) -> ByteBuffer?
        let hangUp: @Sendable () -> Bool

        init(
            number: Int, reply: @escaping @Sendable (ByteBuffer, Int) -> ByteBuffer?,
            hangUp: @escaping @Sendable () -> Bool
        ) {
            self.number = number
            self.reply = reply
            self.hangUp = hangUp
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard let answer = reply(unwrapInboundIn(data), number) else { return }
            if hangUp() {
                context.writeAndFlush(wrapOutboundOut(answer)).whenComplete { [channel = context.channel] _ in
                    channel.close(promise: nil)
                }
            } else {
                context.writeAndFlush(wrapOutboundOut(answer), promise: nil)
            }
        }
    }
}
