import Foundation
import RuntimeRedis
import TestSupport
import Testing

/// The shared test Redis: REDIS_URL, or the server `scripts/infra start` runs.
private let sharedRedisURL = ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:56379/0"

@Suite("Redis through hiredis", .serialized)
struct RedisTests {
    /// Keys of one test: a random prefix, and everything under it deleted afterwards.
    private struct Keys {
        let prefix = "test:redis:\(UInt64.random(in: 0...UInt64.max))"

        func callAsFunction(_ name: String) -> String { "\(prefix):\(name)" }

        func remove(_ pool: RedisPool) async throws {
            var cursor = "0"
            repeat {
                let page = try await pool.send("SCAN", cursor, "MATCH", "\(prefix)*", "COUNT", 1000).array()
                cursor = try page[0].string()
                let keys = try page[1].array().map { RedisArgument(try $0.bytes()) }
                if !keys.isEmpty { _ = try await pool.send([RedisArgument("DEL")] + keys) }
            } while cursor != "0"
        }
    }

    private func makePool(
        url: String = sharedRedisURL, size: Int = 8, wait: Duration = .seconds(5),
        commandTimeout: Duration = .seconds(5)
    ) throws -> RedisPool {
        RedisPool(
            configuration: try RedisConfiguration(
                url: url, maximumConnections: size, connectTimeout: .seconds(1), commandTimeout: commandTimeout,
                waitTimeout: wait))
    }

    /// Runs `body` with a fresh pool and key prefix, cleaning both up afterwards.
    private func withPool(
        size: Int = 8, wait: Duration = .seconds(5), commandTimeout: Duration = .seconds(5),
        _ body: (RedisPool, Keys) async throws -> Void
    ) async throws {
        let pool = try makePool(size: size, wait: wait, commandTimeout: commandTimeout)
        let keys = Keys()
        defer { pool.close() }
        do {
            try await body(pool, keys)
        } catch {
            try? await keys.remove(pool)
            throw error
        }
        try await keys.remove(pool)
    }

    // MARK: - Data that looks like protocol

    @Test func protocolBreakingBytesRoundTripAsData() async throws {
        try await withPool { pool, keys in
            let injection = "*3\r\n$3\r\nSET\r\n$\(keys("injected").utf8.count)\r\n\(keys("injected"))\r\n$1\r\nx\r\n"
            var large = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255) }
            large.replaceSubrange(1000..<1004, with: Array("\r\n\r\n".utf8))
            let values: [[UInt8]] = [
                Array("\r\n".utf8), Array(injection.utf8), Array("$-1".utf8), Array("$-1\r\n".utf8), [0],
                [0x61, 0, 0x62, 0], [0xFF, 0xFE, 0xC0, 0x80, 0x0D, 0x0A], [], large,
            ]
            let script = RedisScript(
                source: "redis.call('SET', KEYS[1], ARGV[1]); return {KEYS[1], redis.call('GET', KEYS[1])}")
            for (index, value) in values.enumerated() {
                // The key carries the same bytes (bounded), so keys are binary safe too.
                let key = Array(keys("\(index):").utf8) + value.prefix(64)
                #expect(try await pool.send("SET", key, value) == .status("OK"))
                #expect(try await pool.send("GET", key) == .bulk(value))
                #expect(try await pool.send("STRLEN", key).int() == Int64(value.count))

                let scriptKey = key + Array(":script".utf8)
                let echoed = try await pool.run(script, keys: [scriptKey], arguments: [value])
                #expect(echoed == .array([.bulk(scriptKey), .bulk(value)]))
                #expect(try await pool.send("GET", scriptKey) == .bulk(value))
            }
            // Nothing was ever parsed as a command.
            #expect(try await pool.send("EXISTS", keys("injected")) == .integer(0))
            #expect(try await pool.send("DBSIZE").int() > 0)
        }
    }

    // MARK: - Replies

    @Test func repliesHaveTheirTypes() async throws {
        try await withPool { pool, keys in
            #expect(try await pool.send("PING") == .status("PONG"))
            #expect(try await pool.send("SET", keys("s"), "hello").string() == "OK")
            #expect(try await pool.send("GET", keys("s")).string() == "hello")
            #expect(try await pool.send("INCR", keys("n")) == .integer(1))
            #expect(try await pool.send("INCRBY", keys("n"), 41).int() == 42)
            // A counter read back with GET is a bulk string; int() reads it.
            #expect(try await pool.send("GET", keys("n")).int() == 42)
            #expect(try await pool.send("SET", keys("f"), 1.5) == .status("OK"))
            #expect(try await pool.send("INCRBYFLOAT", keys("f"), 0.25).string() == "1.75")

            let missing = try await pool.send("GET", keys("missing"))
            #expect(missing == .null)
            #expect(missing.isNull)

            #expect(try await pool.send("RPUSH", keys("l"), "a", "b", "c").int() == 3)
            #expect(try await pool.send("LRANGE", keys("l"), 0, -1) == .array([.bulk([97]), .bulk([98]), .bulk([99])]))
            _ = try await pool.send("HSET", keys("h"), "f1", "v1", "f2", "v2")
            let hash = try await pool.send("HGETALL", keys("h")).array().map { try $0.string() }
            var fields: [String: String] = [:]
            for index in stride(from: 0, to: hash.count, by: 2) { fields[hash[index]] = hash[index + 1] }
            #expect(fields == ["f1": "v1", "f2": "v2"])

            let nested = try await pool.send("EVAL", "return {1, {2, {'x', false}}, 'y'}", 0)
            #expect(
                nested == .array([.integer(1), .array([.integer(2), .array([.bulk([120]), .null])]), .bulk([121])]))
            #expect(try nested.array()[1].array()[1].array()[0].string() == "x")
        }
    }

    @Test func serverErrorsAreThrownNotReturned() async throws {
        try await withPool { pool, keys in
            _ = try await pool.send("SET", keys("text"), "abc")
            let notInteger = await #expect(throws: RedisError.self) { _ = try await pool.send("INCR", keys("text")) }
            #expect(notInteger?.code == .server)
            #expect(notInteger?.message.contains("not an integer") == true)
            #expect(notInteger?.serverErrorPrefix == "ERR")

            let wrongType = await #expect(throws: RedisError.self) { _ = try await pool.send("LPUSH", keys("text"), 1) }
            #expect(wrongType?.code == .server)
            #expect(wrongType?.serverErrorPrefix == "WRONGTYPE")

            let unknown = await #expect(throws: RedisError.self) { _ = try await pool.send("NO-SUCH-COMMAND") }
            #expect(unknown?.code == .server)
            let empty = await #expect(throws: RedisError.self) { _ = try await pool.send([]) }
            #expect(empty?.code == .invalidArgument)
            // The connection is still good after server errors.
            #expect(try await pool.send("GET", keys("text")).string() == "abc")
            #expect(pool.openConnections == 1)
        }
    }

    @Test func aWrongAccessorIsADecodingError() throws {
        let cases: [(RedisReply, (RedisReply) throws -> Void)] = [
            (.integer(1), { _ = try $0.string() }),
            (.null, { _ = try $0.string() }),
            (.bulk([0xFF, 0xFE]), { _ = try $0.string() }),
            (.bulk(Array("12x".utf8)), { _ = try $0.int() }),
            (.status("OK"), { _ = try $0.int() }),
            (.array([]), { _ = try $0.bytes() }),
            (.bulk([1]), { _ = try $0.array() }),
            (.error("ERR x"), { _ = try $0.string() }),
        ]
        for (reply, accessor) in cases {
            let error = #expect(throws: RedisError.self, "\(reply)") { try accessor(reply) }
            #expect(error?.code == .decoding)
        }
        #expect(try RedisReply.bulk([0xFF, 0]).bytes() == [0xFF, 0])
        #expect(!RedisReply.bulk([]).isNull)
    }

    // MARK: - Pipelining

    @Test func aPipelineOfAThousandCommandsKeepsItsOrder() async throws {
        try await withPool { pool, keys in
            var commands: [[any RedisArgumentConvertible]] = (0..<1000).map { ["RPUSH", keys("list"), $0] }
            commands.insert(["HSET", keys("list"), "field", "value"], at: 500)
            commands.append(["NO-SUCH-COMMAND", "x"])
            commands.append(["LRANGE", keys("list"), 0, 2])
            let replies = try await pool.pipeline(commands)
            #expect(replies.count == 1003)
            #expect(Array(replies[..<500]) == (1...500).map { .integer(Int64($0)) })
            guard case .error(let wrongType) = replies[500] else {
                Issue.record("expected an error in slot 500, got \(replies[500])")
                return
            }
            #expect(wrongType.hasPrefix("WRONGTYPE"))
            #expect(Array(replies[501..<1001]) == (501...1000).map { .integer(Int64($0)) })
            guard case .error(let unknown) = replies[1001] else {
                Issue.record("expected an error in slot 1001, got \(replies[1001])")
                return
            }
            #expect(unknown.contains("unknown command"))
            #expect(replies[1002] == .array([.bulk(Array("0".utf8)), .bulk(Array("1".utf8)), .bulk(Array("2".utf8))]))
            #expect(try await pool.pipeline([]) == [])
        }
    }

    // MARK: - The pool

    @Test func twoHundredConcurrentCommandsThroughAPoolOfEight() async throws {
        try await withPool(size: 8) { pool, keys in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        _ = try await pool.send("INCR", keys("counter"))
                        _ = try await pool.send("SET", keys("item:\(index)"), index)
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await pool.send("GET", keys("counter")).int() == 200)
            #expect(try await pool.send("GET", keys("item:199")).int() == 199)
            #expect(pool.openConnections <= 8)
            #expect(pool.openConnections > 1)
        }
    }

    @Test func waitingPastTheWaitTimeoutFailsWithPoolTimeout() async throws {
        try await withPool(size: 2, wait: .milliseconds(200)) { pool, keys in
            // Both connections block on empty lists for a second.
            async let first = pool.send("BLPOP", keys("empty1"), 1, timeout: .seconds(5))
            async let second = pool.send("BLPOP", keys("empty2"), 1, timeout: .seconds(5))
            try await Task.sleep(for: .milliseconds(150))
            let start = ContinuousClock.now
            let error = await #expect(throws: RedisError.self) { _ = try await pool.send("PING") }
            #expect(error?.code == .poolTimeout)
            #expect(error?.message.contains("pool of 2") == true)
            #expect(ContinuousClock.now - start < .milliseconds(700))
            #expect(try await first == .null)
            #expect(try await second == .null)
            // Once the connections are back, the pool serves again.
            #expect(try await pool.send("PING") == .status("PONG"))
            #expect(pool.openConnections <= 2)
        }
    }

    @Test func aCommandPastTheCommandTimeoutFailsAndItsConnectionIsDropped() async throws {
        try await withPool(size: 1, commandTimeout: .milliseconds(300)) { pool, keys in
            #expect(try await pool.send("PING") == .status("PONG"))
            let start = ContinuousClock.now
            let error = await #expect(throws: RedisError.self) { _ = try await pool.send("BLPOP", keys("empty"), 3) }
            #expect(error?.code == .timeout)
            #expect(ContinuousClock.now - start < .seconds(2))
            #expect(pool.openConnections == 0)
            // A reply arriving late cannot be mistaken for the next command's. (Redis notices the
            // closed connection of the abandoned BLPOP on its next event-loop turn; until then it
            // would still hand it a pushed element, so give it that turn.)
            try await Task.sleep(for: .milliseconds(300))
            _ = try await pool.send("RPUSH", keys("empty"), "late")
            #expect(try await pool.send("PING") == .status("PONG"))
            #expect(try await pool.send("LPOP", keys("empty")).string() == "late")
            // A longer timeout for one blocking call.
            #expect(try await pool.send("BLPOP", keys("empty"), 0.5, timeout: .seconds(3)) == .null)
            #expect(try await pool.send("PING") == .status("PONG"))
            #expect(pool.openConnections == 1)
        }
    }

    @Test func aSessionKeepsItsCommandsOnOneConnection() async throws {
        try await withPool(size: 1) { pool, keys in
            _ = try await pool.send("SET", keys("balance"), 10)
            let committed = try await pool.withConnection { session in
                _ = try await session.send("WATCH", keys("balance"))
                let balance = try await session.send("GET", keys("balance")).int()
                _ = try await session.send("MULTI")
                #expect(try await session.send("SET", keys("balance"), balance - 3) == .status("QUEUED"))
                return try await session.send("EXEC")
            }
            #expect(committed == .array([.status("OK")]))
            #expect(try await pool.send("GET", keys("balance")).int() == 7)

            // A body that throws mid-transaction does not hand the transaction to the next caller.
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await pool.withConnection { session in
                    _ = try await session.pipeline([["MULTI"], ["SET", keys("balance"), 0]])
                    throw Abort()
                }
            }
            #expect(try await pool.send("GET", keys("balance")).int() == 7)
            // Nor does a transaction opened through the pool itself.
            _ = try await pool.send("MULTI")
            #expect(try await pool.send("GET", keys("balance")).int() == 7)
            #expect(pool.openConnections == 1)
        }
    }

    @Test func theDatabaseFromTheURLIsSelected() async throws {
        let base = sharedRedisURL.split(separator: "/", omittingEmptySubsequences: false).prefix(3)
            .joined(separator: "/")
        let other = try makePool(url: "\(base)/5")
        let keys = Keys()
        try await withPool { pool, _ in
            _ = try await other.send("SET", keys("db5"), "here")
            #expect(try await other.send("GET", keys("db5")).string() == "here")
            #expect(try await pool.send("GET", keys("db5")) == .null)
            #expect(try await other.send("CLIENT", "INFO").string().contains(" db=5 "))
            // Selecting the database on connect does not make the connection unfit for reuse.
            #expect(other.openConnections == 1)
            try await keys.remove(other)
        }
        other.close()
    }

    @Test func aConnectionTheServerClosedFailsCleanlyMidSession() async throws {
        let pool = try makePool(size: 2)
        let keys = Keys()
        defer { pool.close() }
        let large = [UInt8](repeating: 0x78, count: 32 << 20)
        let error = await #expect(throws: RedisError.self) {
            _ = try await pool.withConnection { session in
                try await Self.killedMidSession(session, pool: pool, key: keys("large"), value: large)
            }
        }
        #expect(error?.code == .connection)
        #expect(try await pool.send("SET", keys("small"), "x") == .status("OK"))
        #expect(pool.openConnections <= 2)
        try await keys.remove(pool)
    }

    /// Has the server close the session's connection (as its idle timeout would), then writes
    /// a large value on it: that must fail as an error, not as a SIGPIPE killing the process.
    private static func killedMidSession(
        _ session: RedisSession, pool: RedisPool, key: String, value: [UInt8]
    ) async throws {
        let id = try await session.send("CLIENT", "ID").int()
        _ = try await pool.send("CLIENT", "KILL", "ID", id)
        try await Task.sleep(for: .milliseconds(100))
        _ = try await session.send("SET", key, value)
    }

    // MARK: - Scripts

    @Test func scriptsSurviveAFlushedScriptCache() async throws {
        let compareAndSet = RedisScript(
            source: """
                if redis.call('GET', KEYS[1]) == ARGV[1] then
                    redis.call('SET', KEYS[1], ARGV[2])
                    return 1
                end
                return 0
                """)
        try await withPool { pool, keys in
            _ = try await pool.send("SET", keys("cas"), "a")
            #expect(try await pool.run(compareAndSet, keys: [keys("cas")], arguments: ["a", "b"]) == .integer(1))
            #expect(try await pool.run(compareAndSet, keys: [keys("cas")], arguments: ["a", "c"]) == .integer(0))
            #expect(try await pool.send("GET", keys("cas")).string() == "b")

            // Only the script cache goes; other suites' scripts reload the same way.
            _ = try await pool.send("SCRIPT", "FLUSH")
            #expect(try await pool.run(compareAndSet, keys: [keys("cas")], arguments: ["b", "c"]) == .integer(1))
            #expect(try await pool.send("GET", keys("cas")).string() == "c")

            let failing = RedisScript(source: "return redis.error_reply('BROKEN on purpose')")
            let error = await #expect(throws: RedisError.self) { _ = try await pool.run(failing) }
            #expect(error?.code == .server)
            #expect(error?.serverErrorPrefix == "BROKEN")
        }
    }

    // MARK: - Tenant keys

    @Test func tenantKeysAreHashTaggedAndEscaped() throws {
        #expect(try RedisKey.tenant("acme", "runs", "42") == "t:{acme}:runs:42")
        #expect(try RedisKey.tenant("acme") == "t:{acme}")
        #expect(try RedisKey.tenant("3f2c-9a.x_y~z", "k") == "t:{3f2c-9a.x_y~z}:k")
        #expect(try RedisKey.tenant("a:b", "k") == "t:{a%3Ab}:k")
        #expect(try RedisKey.tenant("{x}", "k") == "t:{%7Bx%7D}:k")
        #expect(try RedisKey.tenant("50%", "k") == "t:{50%25}:k")
        #expect(try RedisKey.tenant("a*?[", "k") == "t:{a%2A%3F%5B}:k")
        #expect(try RedisKey.tenant("é", "k") == "t:{%C3%A9}:k")
        #expect(try RedisKey.tenantPattern("acme") == "t:{acme}:*")
        let empty = #expect(throws: RedisError.self) { _ = try RedisKey.tenant("", "k") }
        #expect(empty?.code == .invalidArgument)
    }

    @Test func twoTenantsCannotShareAPrefixOrASlot() throws {
        let tenants = ["a", "a:b", "a}", "a}:{b", "a%3Ab", "a%", "a{b}", "b", "A", "a*", "a:b}:x"]
        for tenant in tenants {
            let key = try RedisKey.tenant(tenant, "x")
            // The hash tag (first {…}) is the whole escaped tenant: one slot per tenant.
            let open = try #require(key.firstIndex(of: "{"))
            let close = try #require(key.firstIndex(of: "}"))
            #expect(key[key.index(after: open)..<close].allSatisfy { $0 != "{" && $0 != ":" })
            for other in tenants where other != tenant {
                let otherPrefix = String(try RedisKey.tenantPattern(other).dropLast())
                #expect(!key.hasPrefix(otherPrefix), "\(tenant) reaches into \(other)")
                #expect(key != (try RedisKey.tenant(other, "x")))
            }
        }
        #expect(try RedisKey.tenant("a", "b:x") != (try RedisKey.tenant("a:b", "x")))
    }

    // MARK: - Configuration

    @Test func urlsAreParsed() throws {
        let plain = try RedisConfiguration(url: "redis://127.0.0.1:56379/0")
        #expect(plain.host == "127.0.0.1" && plain.port == 56379 && plain.database == 0)
        #expect(plain.password == nil && plain.username == nil)
        #expect(plain.maximumConnections == 8 && plain.connectTimeout == .seconds(2))
        #expect(plain.commandTimeout == .seconds(5) && plain.waitTimeout == .seconds(5))

        let secret = try RedisConfiguration(url: "redis://:p%40ss%3Aword@cache.internal:7000/3")
        #expect(secret.host == "cache.internal" && secret.port == 7000 && secret.database == 3)
        #expect(secret.password == "p@ss:word" && secret.username == nil)
        #expect(!secret.description.contains("p@ss"))
        #expect(secret.description == "redis://:***@cache.internal:7000/3")

        let user = try RedisConfiguration(url: "REDIS://app:pw@redis")
        #expect(user.username == "app" && user.password == "pw" && user.port == 6379 && user.database == 0)

        let ipv6 = try RedisConfiguration(url: "redis://[::1]:6380/")
        #expect(ipv6.host == "::1" && ipv6.port == 6380)

        let invalid: [(String, String)] = [
            ("http://localhost", "unsupported scheme"),
            ("rediss://localhost", "TLS"),
            ("localhost:6379", "expected redis://"),
            ("redis://", "missing host"),
            ("redis://:pw@:6379", "missing host"),
            ("redis://host:99999", "port"),
            ("redis://host:abc", "port"),
            ("redis://host/x", "database"),
            ("redis://host/-1", "database"),
            ("redis://password@host", "colon"),
            ("redis://user:@host", "needs a password"),
            ("redis://:%zz@host", "percent-encoding"),
            ("redis://host?db=1", "query"),
            ("redis://[::1:6379", "IPv6"),
        ]
        for (url, problem) in invalid {
            let error = #expect(throws: RedisError.self, "\(url)") { _ = try RedisConfiguration(url: url) }
            #expect(error?.code == .configuration)
            #expect(error?.message.contains(problem) == true, "\(url): \(error?.message ?? "")")
        }
        let zero = #expect(throws: RedisError.self) {
            _ = try RedisConfiguration(url: "redis://h", maximumConnections: 0)
        }
        #expect(zero?.code == .configuration)
    }

    // MARK: - Server restart

    @Test func thePoolRecoversFromAServerRestart() async throws {
        let server = try PrivateRedisServer()
        defer { server.stop() }
        try await server.start()

        let wrongPassword = RedisPool(configuration: try RedisConfiguration(url: server.url(password: "wrong")))
        let denied = await #expect(throws: RedisError.self) { _ = try await wrongPassword.send("PING") }
        #expect(denied?.code == .connection)
        #expect(denied?.message.contains("authentication") == true)
        #expect(wrongPassword.openConnections == 0)

        let pool = RedisPool(
            configuration: try RedisConfiguration(
                url: server.url(password: server.password), maximumConnections: 4, connectTimeout: .seconds(1),
                commandTimeout: .seconds(2), waitTimeout: .seconds(2)))
        defer { pool.close() }
        let script = RedisScript(source: "return redis.call('INCR', KEYS[1])")
        try await fill(pool)
        #expect(try await pool.run(script, keys: ["n"]) == .integer(1))

        // A crash and restart between two calls: the idle connections are dead, yet the very
        // next calls succeed (nothing is sent on a connection the server closed).
        server.kill()
        try await server.start()
        #expect(try await pool.send("GET", "k1") == .null)
        for index in 0..<20 {
            #expect(try await pool.send("INCR", "counter").int() == Int64(index + 1))
        }
        // The restarted server has no scripts: the pool loads it again by itself.
        #expect(try await pool.run(script, keys: ["n"]) == .integer(1))
        #expect(pool.openConnections <= 4)

        // A call in flight when the server dies fails with a connection error, without a retry.
        try await fill(pool)
        let inFlight = Task { try await pool.send("BLPOP", "nothing", 10, timeout: .seconds(20)) }
        try await Task.sleep(for: .milliseconds(200))
        server.kill()
        let lost = await #expect(throws: RedisError.self) { _ = try await inFlight.value }
        #expect(lost?.code == .connection)

        // While it is down, calls fail quickly with a connection error; nothing hangs.
        for _ in 0..<5 {
            let start = ContinuousClock.now
            let down = await #expect(throws: RedisError.self) { _ = try await pool.send("GET", "k1") }
            #expect(down?.code == .connection)
            #expect(ContinuousClock.now - start < .seconds(1))
        }
        let pipelineDown = await #expect(throws: RedisError.self) { _ = try await pool.pipeline([["PING"]]) }
        #expect(pipelineDown?.code == .connection)
        #expect(pool.openConnections <= 4)

        // Back on the same port: calls succeed again, within the pool's limit.
        try await server.start()
        #expect(try await pool.send("INCR", "counter").int() == 1)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                group.addTask { _ = try await pool.send("SET", "k\(index)", index) }
            }
            try await group.waitForAll()
        }
        #expect(try await pool.send("GET", "k39").int() == 39)
        #expect(pool.openConnections <= 4)
        let clients = try await pool.send("CLIENT", "LIST").string()
        #expect(clients.split(separator: "\n").count <= 4)
    }

    @Test func aServerDyingWhileACommandIsWrittenIsAConnectionError() async throws {
        let server = try PrivateRedisServer()
        defer { server.stop() }
        try await server.start()
        let pool = RedisPool(
            configuration: try RedisConfiguration(
                url: server.url(password: server.password), maximumConnections: 1, connectTimeout: .seconds(1)))
        defer { pool.close() }
        #expect(try await pool.send("PING") == .status("PONG"))

        // A frozen server stops reading, so a large value fills the socket buffers and the
        // write blocks; killing the server then resets the connection under the writer. That
        // must end as an error, not as a SIGPIPE that kills the process.
        server.freeze()
        let large = [UInt8](repeating: 0x78, count: 32 << 20)
        let write = Task { try await pool.send("SET", "large", large) }
        try await Task.sleep(for: .milliseconds(300))
        server.kill()
        let error = await #expect(throws: RedisError.self) { _ = try await write.value }
        #expect(error?.code == .connection)

        try await server.start()
        #expect(try await pool.send("SET", "small", "x") == .status("OK"))
        #expect(pool.openConnections == 1)
    }

    /// Opens all four connections of `pool` at once (blocking calls that overlap), so all are
    /// idle in the pool afterwards.
    private func fill(_ pool: RedisPool) async throws {
        try await withThrowingTaskGroup(of: RedisReply.self) { group in
            for index in 0..<4 {
                group.addTask { try await pool.send("BLPOP", "empty\(index)", 0.2, timeout: .seconds(2)) }
            }
            for try await reply in group { #expect(reply == .null) }
        }
        #expect(pool.openConnections == 4)
    }
}

/// A redis-server of this suite's own on a free port, so killing it disturbs no other suite.
/// It runs in the foreground as our child (a daemonized server would outlive a crashed test
/// run and is not reaped by Foundation's `Process`).
private final class PrivateRedisServer {
    let port: Int
    let password = "s3cret:@/%"
    private let directory: String
    private var process: Process?

    init() throws {
        var candidate = 0
        for _ in 0..<50 {
            let port = testServerPort()
            if !Self.isListening(port) {
                candidate = port
                break
            }
        }
        guard candidate != 0 else { throw RedisError(code: .connection, message: "no free port for a test server") }
        port = candidate
        directory = NSTemporaryDirectory() + "agentplane-redis-test-\(candidate)-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func url(password: String) -> String {
        let encoded = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? password
        return "redis://:\(encoded)@127.0.0.1:\(port)/0"
    }

    /// Starts the server and waits until it accepts connections.
    func start() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--daemonize", "no", "--dir", directory, "--logfile", "\(directory)/redis.log", "--requirepass", password,
        ]
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        // Generous: on a loaded two-core machine a restart on the same port can take a while.
        for _ in 0..<400 {
            if Self.isListening(port) { return }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let log = (try? String(contentsOfFile: "\(directory)/redis.log", encoding: .utf8)) ?? ""
        throw RedisError(
            code: .connection,
            message: "the test redis-server on port \(port) did not start: \(log.split(separator: "\n").suffix(3))")
    }

    /// Stops the server process (SIGSTOP): it keeps its sockets but reads nothing.
    func freeze() {
        if let process { Glibc.kill(process.processIdentifier, SIGSTOP) }
    }

    /// SIGKILLs the server (a crash, not a clean shutdown) and waits until it is gone.
    func kill() {
        guard let process else { return }
        self.process = nil
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Stops the server if it runs and removes its folder.
    func stop() {
        kill()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func isListening(_ port: Int) -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return false }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
