public import Logging
import RPCHTTP2
public import RuntimeObservability
public import ServiceLifecycle

/// The gRPC server in the service group: on graceful shutdown it flips readiness, stops
/// accepting calls and lets the calls in flight finish (up to the grace period).
struct GRPCServerLifecycle: Service {
    let server: GRPCServer
    let monitor: DependencyMonitor
    let gracePeriod: Duration
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        monitor.beginDraining()
        logger.info("draining", metadata: ["grace": "\(gracePeriod)"])
        await server.shutdown(gracePeriod: gracePeriod)
        logger.info("drained")
    }
}

/// Background work (health checks, a service's dispatchers): cancelled once the server drained.
public struct BackgroundLifecycle: Service {
    let tasks: [@Sendable () async throws -> Void]
    let logger: Logger

    /// Runs `tasks` until the graceful shutdown, logging failures to `logger`.
    public init(tasks: [@Sendable () async throws -> Void], logger: Logger) {
        self.tasks = tasks
        self.logger = logger
    }

    /// Runs the tasks until the graceful shutdown cancels them.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for task in tasks {
                    group.addTask {
                        do {
                            try await task()
                        } catch is CancellationError {
                        } catch {
                            logger.error("background task failed", metadata: ["error": "\(error)"])
                        }
                    }
                }
            }
        }
    }
}

/// Closes pools and clients last, after every call and background task is done.
public struct ResourcesLifecycle: Service {
    let close: @Sendable () async -> Void

    /// Calls `close` once the graceful shutdown reaches it.
    public init(close: @escaping @Sendable () async -> Void) { self.close = close }

    /// Waits for the graceful shutdown, then closes.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }
}

/// The admin HTTP port, kept up until the very end so `/readyz` shows the drain.
public struct AdminLifecycle: Service {
    let admin: AdminServer

    /// Keeps `admin` up until the end of the graceful shutdown.
    public init(admin: AdminServer) { self.admin = admin }

    /// Waits for the graceful shutdown, then stops the admin port.
    public func run() async throws {
        try? await gracefulShutdown()
        await admin.shutdown()
    }
}
