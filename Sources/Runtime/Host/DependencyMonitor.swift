import RPCModels
import RuntimePostgres
import RuntimeRedis
import StandardServices
import Synchronization

/// Watches the process's own state and its two stores, and reports them to the gRPC health
/// service and the admin port's `/readyz`.
final class DependencyMonitor: Sendable {
    private struct State {
        var postgres = "unknown"
        var redis = "unknown"
        var draining = false
    }

    private let state = Mutex(State())
    private let postgres: PostgresPool
    private let redis: RedisPool
    private let health: HealthService
    private let serviceNames: [String]

    init(postgres: PostgresPool, redis: RedisPool, health: HealthService, serviceNames: [String]) {
        self.postgres = postgres
        self.redis = redis
        self.health = health
        self.serviceNames = serviceNames
    }

    /// Checks both stores now and publishes the result.
    func check() async {
        let postgresStatus: String
        do {
            _ = try await postgres.query("SELECT 1")
            postgresStatus = "ok"
        } catch {
            postgresStatus = "down: \(error)"
        }
        let redisStatus: String
        do {
            _ = try await redis.send("PING")
            redisStatus = "ok"
        } catch {
            redisStatus = "down: \(error)"
        }
        state.withLock {
            $0.postgres = postgresStatus
            $0.redis = redisStatus
        }
        publish()
    }

    /// Checks every `interval` until cancelled.
    func run(every interval: Duration) async {
        while !Task.isCancelled {
            await check()
            try? await Task.sleep(for: interval)
        }
    }

    /// Marks the process as draining: not ready, NOT_SERVING.
    func beginDraining() {
        state.withLock { $0.draining = true }
        publish()
    }

    /// The checks, as `/readyz` shows them.
    var report: (ready: Bool, checks: [String: String]) {
        state.withLock { state in
            let ready = !state.draining && state.postgres == "ok" && state.redis == "ok"
            return (
                ready,
                ["process": state.draining ? "draining" : "ok", "postgres": state.postgres, "redis": state.redis]
            )
        }
    }

    private func publish() {
        let status: HealthService.ServingStatus = report.ready ? .serving : .notServing
        health.setStatus(status, for: "")
        for name in serviceNames { health.setStatus(status, for: name) }
    }
}
