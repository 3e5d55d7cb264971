import NIOCore
import NIOHTTP1
import NIOPosix
public import Prometheus
import Saturating
import Synchronization

/// The admin HTTP/1.1 port of a service: `/metrics` for Prometheus, `/healthz` for liveness and
/// `/readyz` for readiness probes and load balancers.
///
/// It runs on an event loop thread of its own, so a scrape or a probe is answered even when
/// the service's RPC event loops are saturated. Only GET and HEAD are allowed (405 otherwise);
/// unknown paths get 404; connections are kept alive unless the client asks otherwise.
public final class AdminServer: Sendable {
    /// The address to listen on.
    public let host: String
    private let requestedPort: Int
    private let registry: PrometheusCollectorRegistry
    private let readiness: @Sendable () async -> ReadinessReport
    private let idleTimeout: Duration

    private enum State {
        case idle
        case starting
        case running(group: MultiThreadedEventLoopGroup, channel: any Channel, port: Int)
        case stopped
    }

    private let state = Mutex(State.idle)

    /// A server for `registry`'s metrics that asks `readiness` on each `/readyz`. Port 0 picks
    /// a free port, readable from `port` once started. A connection that sends nothing for
    /// `idleTimeout` is closed.
    public init(
        host: String = "0.0.0.0", port: Int, registry: PrometheusCollectorRegistry,
        idleTimeout: Duration = .seconds(60),
        readiness: @escaping @Sendable () async -> ReadinessReport = { .ready }
    ) {
        self.idleTimeout = idleTimeout
        self.host = host
        self.requestedPort = port
        self.registry = registry
        self.readiness = readiness
    }

    /// The port listened on, once started; nil before `start()` and after `shutdown()`.
    public var port: Int? {
        state.withLock { state in
            if case .running(_, _, let port) = state { return port }
            return nil
        }
    }

    /// Binds and starts answering. Calling it a second time is a programming error.
    public func start() async throws {
        state.withLock { state in
            guard case .idle = state else { preconditionFailure("AdminServer.start() called twice") }
            state = .starting
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let registry = registry
        let readiness = readiness
        let idle = TimeAmount.nanoseconds(idleTimeout.saturatingNanoseconds)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 64)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idle))
                    try channel.pipeline.syncOperations.addHandler(IdleConnectionCloser())
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        AdminHTTPHandler(registry: registry, readiness: readiness))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: host, port: requestedPort).get()
        } catch {
            state.withLock { $0 = .idle }
            try? await group.shutdownGracefully()
            throw error
        }
        let port = channel.localAddress?.port ?? requestedPort
        let stopped = state.withLock { state in
            if case .stopped = state { return true }
            state = .running(group: group, channel: channel, port: port)
            return false
        }
        if stopped {
            try? await channel.close()
            try? await group.shutdownGracefully()
        }
    }

    /// Stops listening, closes open connections and ends the event loop thread.
    public func shutdown() async {
        let running = state.withLock { state -> (MultiThreadedEventLoopGroup, any Channel)? in
            defer { state = .stopped }
            if case .running(let group, let channel, _) = state { return (group, channel) }
            return nil
        }
        guard let (group, channel) = running else { return }
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

/// Closes a connection once `IdleStateHandler` reports it idle.
private final class IdleConnectionCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
