import NIOCore
public import NIOPosix
public import RPCCore
import Synchronization

/// A gRPC server over HTTP/2 (cleartext, prior knowledge), on SwiftNIO and nghttp2.
///
/// Register services, `start()`, and `shutdown()` when done; or `run()` until cancelled.
public final class GRPCServer: Sendable {
    /// The configuration the server was made with.
    public let configuration: ServerConfiguration
    private let router: ServerRouter
    private let interceptors: [any ServerInterceptor]
    private let group: MultiThreadedEventLoopGroup
    /// Whether `shutdown` stops the group (one made for this server) or leaves it to its owner.
    private let ownsGroup: Bool
    private let registry = ConnectionRegistry()
    private let channel = Mutex<(any Channel)?>(nil)

    /// A server for `services`, with `interceptors` around every call (the first outermost).
    /// With `eventLoopGroup` it serves on that group (shared with the process's clients;
    /// `configuration.threads` is then unused) and leaves stopping it to its owner.
    public init(
        configuration: ServerConfiguration, services: [any RegistrableService],
        interceptors: [any ServerInterceptor] = [], eventLoopGroup: MultiThreadedEventLoopGroup? = nil
    ) {
        self.configuration = configuration
        var router = ServerRouter()
        for service in services {
            for method in service.serverMethods { router.register(method) }
        }
        self.router = router
        self.interceptors = interceptors
        self.group =
            eventLoopGroup
            ?? MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.threads ?? System.coreCount))
        ownsGroup = eventLoopGroup == nil
    }

    /// Adds a method after creation is not possible; this lists what is served.
    public var serviceNames: [String] { router.serviceNames }

    /// Binds and starts accepting connections.
    public func start() async throws {
        let router = router
        let interceptors = interceptors
        let configuration = configuration
        let registry = registry
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                // The seam for TLS: a TLS handler would be added here, before the HTTP/2 one.
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ServerConnectionHandler(
                            router: router, interceptors: interceptors, configuration: configuration,
                            registry: registry))
                }
            }
        let bound = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        channel.withLock { $0 = bound }
    }

    /// The port the server listens on, once started.
    public var port: Int? {
        channel.withLock { $0?.localAddress?.port }
    }

    /// Stops accepting connections, sends GOAWAY on every connection, lets calls in flight
    /// finish for up to `gracePeriod`, then closes what is left and stops the event loops it made.
    public func shutdown(gracePeriod: Duration = .seconds(10)) async {
        let listening = channel.withLock { channel -> (any Channel)? in
            defer { channel = nil }
            return channel
        }
        try? await listening?.close().get()
        registry.forEach { $0.beginGracefulShutdown() }
        let deadline = ContinuousClock.now + gracePeriod
        while registry.count > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        registry.forEach { $0.closeNow() }
        while registry.count > 0, ContinuousClock.now < deadline + .seconds(1) {
            try? await Task.sleep(for: .milliseconds(10))
        }
        if ownsGroup { try? await group.shutdownGracefully() }
    }

    /// Starts, then serves until the task is cancelled, then shuts down gracefully.
    public func run(gracePeriod: Duration = .seconds(10)) async throws {
        try await start()
        await withTaskCancellationHandler {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(3600))
            }
        } onCancel: {
        }
        await shutdown(gracePeriod: gracePeriod)
    }
}

/// The open connections of a server, so shutdown can reach each on its own event loop.
final class ConnectionRegistry: Sendable {
    private struct Entry: @unchecked Sendable {
        let handler: ServerConnectionHandler
        let loop: any EventLoop
    }

    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])

    /// Adds a connection unless `limit` connections are open already; false then.
    func add(_ handler: ServerConnectionHandler, loop: any EventLoop, limit: Int) -> Bool {
        entries.withLock {
            guard $0.count < limit else { return false }
            $0[ObjectIdentifier(handler)] = Entry(handler: handler, loop: loop)
            return true
        }
    }

    func remove(_ handler: ServerConnectionHandler) {
        _ = entries.withLock { $0.removeValue(forKey: ObjectIdentifier(handler)) }
    }

    var count: Int { entries.withLock { $0.count } }

    /// Runs `body` for each connection on that connection's loop.
    func forEach(_ body: @escaping @Sendable (ServerConnectionHandler) -> Void) {
        for entry in entries.withLock({ Array($0.values) }) {
            entry.loop.execute { body(entry.handler) }
        }
    }
}
