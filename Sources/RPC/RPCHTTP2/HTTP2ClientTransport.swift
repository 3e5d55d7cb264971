import NIOCore
import NIOPosix
public import RPCCore
import Synchronization

/// A client transport over HTTP/2 (cleartext, prior knowledge): one multiplexed connection
/// per target, opened on first use, reopened with exponential backoff after failures, and
/// calls spread round-robin over the targets that are up.
public final class HTTP2ClientTransport: ClientTransport, Sendable {
    private let subchannels: [Subchannel]
    private let next = Atomic<Int>(0)
    private let group: MultiThreadedEventLoopGroup
    private let configuration: ClientConfiguration

    /// A transport to one or more servers serving the same services.
    public init(targets: [Target], configuration: ClientConfiguration = ClientConfiguration()) {
        precondition(!targets.isEmpty, "a client needs at least one target")
        self.configuration = configuration
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.threads))
        self.group = group
        subchannels = targets.map { Subchannel(target: $0, group: group, configuration: configuration) }
    }

    /// A transport to one server.
    public convenience init(host: String, port: Int, configuration: ClientConfiguration = ClientConfiguration()) {
        self.init(targets: [Target(host: host, port: port)], configuration: configuration)
    }

    /// Starts a call on the next target that is up, connecting if needed.
    public func openStream(
        descriptor: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?, options: CallOptions
    ) async throws -> any ClientStream {
        let start = next.add(1, ordering: .relaxed).oldValue
        var lastError: (any Error)?
        // Each call starts at the next target in turn; a target that is down (or still backing
        // off after a failure) passes the call on to the one after it.
        for offset in 0..<subchannels.count {
            let subchannel = subchannels[(start &+ offset) % subchannels.count]
            do {
                if let stream = try await subchannel.openStream(
                    descriptor: descriptor, metadata: metadata, deadline: deadline)
                {
                    return stream
                }
            } catch {
                lastError = error
            }
        }
        throw RPCError(
            code: .unavailable,
            message: "no server could be reached (\(subchannels.map(\.target.description).joined(separator: ", ")))"
                + (lastError.map { ": \($0)" } ?? ""))
    }

    /// Closes every connection and stops the event loops.
    public func close() async {
        for subchannel in subchannels { await subchannel.close() }
        try? await group.shutdownGracefully()
    }
}

/// One target's connection, its state and its reconnection backoff.
final class Subchannel: Sendable {
    let target: Target
    private let group: MultiThreadedEventLoopGroup
    private let configuration: ClientConfiguration

    private struct Connection: @unchecked Sendable {
        let handler: ClientConnectionHandler
        let channel: any Channel
    }

    private enum State {
        case idle
        case connecting(EventLoopFuture<Connection>)
        case ready(Connection)
        case backingOff(until: ContinuousClock.Instant, error: String)
    }

    private struct Locked {
        var state: State = .idle
        var backoff: Duration?
    }

    private let locked = Mutex<Locked>(Locked())

    init(target: Target, group: MultiThreadedEventLoopGroup, configuration: ClientConfiguration) {
        self.target = target
        self.group = group
        self.configuration = configuration
    }

    /// A stream on this target's connection, connecting first if needed. Throws when the
    /// target is unreachable (or still backing off after a failure).
    func openStream(
        descriptor: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?
    ) async throws -> HTTP2ClientStream? {
        for _ in 0..<2 {
            let connection = try await connection()
            let stream = try await connection.channel.eventLoop.submit {
                connection.handler.openStream(descriptor: descriptor, metadata: metadata, deadline: deadline)
            }.get()
            if let stream { return stream }
            // The connection stopped taking calls (GOAWAY); forget it and connect again.
            forget(connection)
        }
        return nil
    }

    private func connection() async throws -> Connection {
        let future: EventLoopFuture<Connection> = try locked.withLock { locked in
            switch locked.state {
            case .ready(let connection):
                return group.next().makeSucceededFuture(connection)
            case .connecting(let future):
                return future
            case .backingOff(let until, let error):
                if ContinuousClock.now < until {
                    throw RPCError(code: .unavailable, message: "\(target) is unreachable: \(error)")
                }
                fallthrough
            case .idle:
                let future = connect()
                locked.state = .connecting(future)
                return future
            }
        }
        do {
            let connection = try await future.get()
            locked.withLock { locked in
                if case .connecting = locked.state {
                    locked.state = .ready(connection)
                    locked.backoff = nil
                }
            }
            return connection
        } catch {
            locked.withLock { locked in
                if case .connecting = locked.state {
                    let delay =
                        locked.backoff.map { $0 * configuration.backoffMultiplier } ?? configuration.initialBackoff
                    let capped = min(delay, configuration.maximumBackoff)
                    locked.backoff = capped
                    let jittered = capped * Double.random(in: 0.8...1.2)
                    locked.state = .backingOff(until: .now + jittered, error: "\(error)")
                }
            }
            throw RPCError(code: .unavailable, message: "cannot connect to \(target): \(error)")
        }
    }

    private func connect() -> EventLoopFuture<Connection> {
        let configuration = configuration
        let authority = target.description
        return ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.nanoseconds(configuration.connectTimeout.nanoseconds))
            .channelInitializer { channel in
                // The seam for TLS: a TLS handler would be added here, before the HTTP/2 one.
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ClientConnectionHandler(configuration: configuration, authority: authority))
                }
            }
            .connect(host: target.host, port: target.port)
            .flatMapThrowing { channel in
                let handler = try channel.pipeline.syncOperations.handler(type: ClientConnectionHandler.self)
                let connection = Connection(handler: handler, channel: channel)
                handler.onUnusable = { [weak self] in self?.forget(connection) }
                return connection
            }
    }

    /// A connection that stopped taking calls: the next call connects again.
    private func forget(_ connection: Connection) {
        locked.withLock { locked in
            if case .ready(let current) = locked.state, current.channel === connection.channel {
                locked.state = .idle
            }
        }
    }

    func close() async {
        let connection: Connection? = locked.withLock { locked in
            defer { locked.state = .idle }
            if case .ready(let connection) = locked.state { return connection }
            return nil
        }
        guard let connection else { return }
        try? await connection.channel.eventLoop.submit { connection.handler.close() }.get()
    }
}
