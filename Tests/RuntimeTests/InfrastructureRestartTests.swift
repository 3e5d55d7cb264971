import Foundation
import RuntimePostgres
import RuntimeRedis
import TestSupport
import Testing

/// A PostgreSQL cluster and Redis of this suite's own (scripts/infra with other ports and data
/// folder), so killing them disturbs no other suite.
private struct PrivateInfrastructure {
    let postgresPort = testServerPort(spread: 2)
    var redisPort: Int { postgresPort + 1 }
    let dataDirectory = "/tmp/agentplane-restart-\(UInt32.random(in: 0...UInt32.max))"

    var databaseURL: String { "postgresql://postgres@127.0.0.1:\(postgresPort)/postgres" }
    var redisURL: String { "redis://127.0.0.1:\(redisPort)/0" }

    /// Runs `scripts/infra <command>` for this pair; its exit status.
    @discardableResult
    func infra(_ command: String) async throws -> Int32? {
        let process = try ChildProcess(
            [repositoryRoot.appendingPathComponent("scripts/infra").path, command],
            environment: [
                "AGENTPLANE_PG_PORT": String(postgresPort), "AGENTPLANE_REDIS_PORT": String(redisPort),
                "AGENTPLANE_DATA_DIR": dataDirectory,
            ], readsOutput: false)
        return try await process.waitForExit(timeout: .seconds(60))
    }

    /// SIGKILLs the server whose pid file is at `path` (a crash, not a clean shutdown).
    func kill(pidFile path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let pid = try #require(text.split(separator: "\n").first.flatMap { pid_t($0) })
        #expect(Glibc.kill(pid, SIGKILL) == 0)
        // Wait until it is gone, so the restart does not race its shutdown.
        for _ in 0..<100 where Glibc.kill(pid, 0) == 0 { usleep(50_000) }
    }

    /// Stops both servers (SIGKILL: the data folder goes away anyway) and removes the data.
    func cleanUp() {
        for pidFile in ["\(dataDirectory)/pg/postmaster.pid", "\(dataDirectory)/redis.pid"] {
            if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                let pid = text.split(separator: "\n").first.flatMap({ pid_t($0) })
            {
                Glibc.kill(pid, SIGKILL)
            }
        }
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }
}

@Suite("Pools recover when PostgreSQL and Redis restart", .serialized)
struct InfrastructureRestartTests {
    @Test func killAndRestartPostgresThenRedis() async throws {
        let infra = PrivateInfrastructure()
        defer { infra.cleanUp() }
        #expect(try await infra.infra("start") == 0)

        let postgres = PostgresPool(
            configuration: .init(
                connectionString: infra.databaseURL, maximumConnections: 4, waitTimeout: .seconds(2),
                applicationName: "restart-test"))
        let redis = try RedisPool(configuration: RedisConfiguration(url: infra.redisURL, maximumConnections: 4))
        defer {
            postgres.close()
            redis.close()
        }
        // Fill both pools with open connections.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<16 {
                group.addTask { _ = try await postgres.query("SELECT $1::int, pg_sleep(0.01)", index) }
                group.addTask { _ = try await redis.send("SET", "k\(index)", "\(index)") }
            }
            try await group.waitForAll()
        }
        #expect(postgres.openConnections == 4)

        // PostgreSQL crashes: calls fail with a connection error, quickly, and nothing crashes.
        try infra.kill(pidFile: "\(infra.dataDirectory)/pg/postmaster.pid")
        let down = await #expect(throws: PostgresError.self) { _ = try await postgres.query("SELECT 1") }
        #expect(down?.code == .connection)
        // Redis is unaffected meanwhile.
        #expect(try await redis.send("GET", "k3").string() == "3")

        #expect(try await infra.infra("start") == 0)
        for index in 0..<20 {
            let rows = try await postgres.query("SELECT $1::int + 1 AS n", index)
            #expect(try rows[0].decode("n", as: Int.self) == index + 1)
        }
        // No leaked connections: the server sees at most the pool's size from this pool.
        let sessions = try await postgres.query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'restart-test'")
        #expect(try sessions[0].decode("n", as: Int.self) <= 4)
        #expect(postgres.openConnections <= 4)

        // Now Redis crashes; append-only persistence keeps what was written a second before.
        try await Task.sleep(for: .seconds(1.2))
        try infra.kill(pidFile: "\(infra.dataDirectory)/redis.pid")
        let redisDown = await #expect(throws: RedisError.self) { _ = try await redis.send("PING") }
        #expect(redisDown?.code == .connection)
        #expect(try await postgres.query("SELECT 1 AS one")[0].decode("one", as: Int.self) == 1)

        #expect(try await infra.infra("start") == 0)
        for index in 0..<20 {
            #expect(try await redis.send("INCR", "counter").int() == Int64(index + 1))
        }
        #expect(try await redis.send("GET", "k3").string() == "3")
        #expect(redis.openConnections <= 4)
        let clients = try await redis.send("CLIENT", "LIST").string()
        #expect(clients.split(separator: "\n").count <= 4)
    }
}
