import NIOCore
public import NIOPosix
public import RPCCore
import Synchronization

/// A client transport over HTTP/2 (cleartext, prior knowledge), balancing like gRPC's dns
/// resolver with the round_robin policy: a target whose host is an IP address gets one
/// subchannel; a target whose host is a name is resolved into one subchannel per address,
/// resolved again periodically and when none of its addresses answers. Each subchannel is one
/// multiplexed connection, opened on first use and reopened with exponential backoff after
/// failures; calls go round-robin over the subchannels of all targets, passing over those
/// that are down.
public final class HTTP2ClientTransport: ClientTransport, Sendable {
    private let targets: [Target]
    private let next = Atomic<Int>(0)
    private let group: MultiThreadedEventLoopGroup
    /// Whether `close()` stops the group (one made for this transport) or leaves it to its owner.
    private let ownsGroup: Bool
    private let configuration: ClientConfiguration
    private let resolver: any NameResolving
    /// The shortest time between two re-resolutions of a name that calls ask for (failures);
    /// the periodic ones are not limited.
    private let reresolutionSpacing: Duration
    /// The indices of the targets whose host is a name.
    private let nameIndices: [Int]
    private let state: Mutex<State>

    /// What is known of one target: its subchannels and, for a name, its resolution.
    private struct TargetState {
        var subchannels: [Subchannel]
        /// Whether the name has been resolved at least once (always true for an IP address).
        var resolved: Bool
        /// Why the last resolution failed, while the last known addresses stay in use.
        var error: String?
        var resolving: Task<Void, Never>?
        var lastResolution: ContinuousClock.Instant?
    }

    private struct State {
        var targets: [TargetState]
        /// Every subchannel of every target: the round-robin ring.
        var ring: [Subchannel]
        /// Subchannels of addresses a name no longer has, closing once their calls have ended.
        var draining: [Subchannel] = []
        var unresolved: Int
        var refresher: Task<Void, Never>?
        var closed = false

        mutating func rebuildRing() {
            ring = targets.flatMap(\.subchannels)
        }
    }

    /// A transport to one or more servers serving the same services. With `eventLoopGroup`, its
    /// connections live on that group (a process's one group, shared with its server, so a
    /// handler's outbound calls need no thread switch) and `configuration.threads` is unused;
    /// the group's owner shuts it down after `close()`.
    public convenience init(
        targets: [Target], configuration: ClientConfiguration = ClientConfiguration(),
        eventLoopGroup: MultiThreadedEventLoopGroup? = nil
    ) {
        self.init(
            targets: targets, configuration: configuration, resolver: SystemNameResolver(),
            eventLoopGroup: eventLoopGroup)
    }

    /// A transport resolving names with `resolver` (tests answer for names of their own).
    init(
        targets: [Target], configuration: ClientConfiguration, resolver: any NameResolving,
        reresolutionSpacing: Duration = .seconds(1), eventLoopGroup: MultiThreadedEventLoopGroup? = nil
    ) {
        precondition(!targets.isEmpty, "a client needs at least one target")
        self.targets = targets
        self.configuration = configuration
        self.resolver = resolver
        self.reresolutionSpacing = reresolutionSpacing
        let group = eventLoopGroup ?? MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.threads))
        self.group = group
        ownsGroup = eventLoopGroup == nil
        let states = targets.map { target in
            target.hostIsIPAddress
                ? TargetState(
                    subchannels: [
                        Subchannel(target: target, address: nil, group: group, configuration: configuration)
                    ],
                    resolved: true)
                : TargetState(subchannels: [], resolved: false)
        }
        nameIndices = states.indices.filter { !states[$0].resolved }
        state = Mutex(State(targets: states, ring: states.flatMap(\.subchannels), unresolved: nameIndices.count))
        guard !nameIndices.isEmpty else { return }
        // Names are resolved at once (the first call waits for that answer), then every
        // `resolutionInterval`. The task holds the transport weakly between rounds, so a
        // transport dropped without `close()` does not live on.
        let interval = configuration.resolutionInterval
        let refresher = Task { [weak self] in
            var first = true
            while !Task.isCancelled {
                if !first {
                    guard let interval, (try? await Task.sleep(for: interval)) != nil else { return }
                }
                first = false
                guard let transport = self else { return }
                await transport.resolveAllNames()
            }
        }
        state.withLock { $0.refresher = refresher }
    }

    /// A transport to one server.
    public convenience init(host: String, port: Int, configuration: ClientConfiguration = ClientConfiguration()) {
        self.init(targets: [Target(host: host, port: port)], configuration: configuration)
    }

    /// Starts a call on the next subchannel that is up, connecting if needed.
    public func openStream(
        descriptor: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?, options: CallOptions
    ) async throws -> any ClientStream {
        try await openStream(descriptor: descriptor, metadata: metadata, deadline: deadline, request: nil)
    }

    /// Starts a call whose whole request is `request`: the headers, the message and the end go
    /// out in one write.
    public func openStream(
        descriptor: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?, options: CallOptions,
        request: [UInt8]
    ) async throws -> any ClientStream {
        try await openStream(descriptor: descriptor, metadata: metadata, deadline: deadline, request: request)
    }

    private func openStream(
        descriptor: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?, request: [UInt8]?
    ) async throws -> any ClientStream {
        let (ring, unresolved) = state.withLock { ($0.ring, $0.unresolved) }
        if unresolved > 0 { try await resolveNamesNotYetResolved(deadline: deadline) }
        var current = unresolved > 0 ? state.withLock { $0.ring } : ring
        var lastError: (any Error)?
        for attempt in 0..<2 {
            switch await open(
                on: current, descriptor: descriptor, metadata: metadata, deadline: deadline, request: request)
            {
            case .success(let stream):
                return stream
            case .failure(let failure):
                lastError = failure.error ?? lastError
            }
            // No address took the call. The replicas behind a name may have moved (pods
            // replaced): resolve again and, if the addresses changed, try the new ones once.
            guard attempt == 0, !nameIndices.isEmpty else { break }
            try await wait(for: startResolutions(of: nameIndices, limited: true), until: deadline)
            let renewed = state.withLock { $0.ring }
            guard renewed.map(ObjectIdentifier.init) != current.map(ObjectIdentifier.init) else { break }
            current = renewed
        }
        throw unavailable(lastError)
    }

    /// Tries the subchannels of `ring` in turn from the next start position; returns the
    /// last error (nil when the ring was empty) when none took the call.
    private func open(
        on ring: [Subchannel], descriptor: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?,
        request: [UInt8]?
    ) async -> Result<any ClientStream, OpenFailure> {
        guard !ring.isEmpty else { return .failure(OpenFailure(error: nil)) }
        let start = next.add(1, ordering: .relaxed).oldValue
        var lastError: (any Error)?
        var failed: Set<Target> = []
        var connecting: [Subchannel] = []
        defer { if !failed.isEmpty { resolveWhenAllDown(failed) } }
        // Each call starts at the next subchannel in turn; one that is down (or still backing
        // off after a failure) passes the call on to the one after it. One whose connection
        // another call is already waiting for is passed over too while any other takes the
        // call, so an address that does not answer (a vanished pod's IP) holds up one call
        // for the connect timeout, not every call that comes by.
        for offset in 0..<ring.count {
            let subchannel = ring[(start &+ offset) % ring.count]
            do {
                if let stream = try await subchannel.openStream(
                    descriptor: descriptor, metadata: metadata, deadline: deadline, request: request,
                    joinConnectionUnderWay: false)
                {
                    return .success(stream)
                }
            } catch is ConnectionUnderWay {
                connecting.append(subchannel)
            } catch {
                lastError = error
                if subchannel.address != nil { failed.insert(subchannel.target) }
            }
        }
        for subchannel in connecting {
            do {
                if let stream = try await subchannel.openStream(
                    descriptor: descriptor, metadata: metadata, deadline: deadline, request: request,
                    joinConnectionUnderWay: true)
                {
                    return .success(stream)
                }
            } catch {
                lastError = error
                if subchannel.address != nil { failed.insert(subchannel.target) }
            }
        }
        return .failure(OpenFailure(error: lastError))
    }

    /// The error a call gets when nothing took it: the addresses tried and, for names, why
    /// they could not be resolved.
    private func unavailable(_ lastError: (any Error)?) -> RPCError {
        let problems = state.withLock { state in
            zip(targets, state.targets).compactMap { target, known in
                known.error.map { "\(target): \($0)" }
            }
        }
        var message = "no server could be reached (\(targets.map(\.description).joined(separator: ", ")))"
        if let lastError { message += ": \(lastError)" }
        if !problems.isEmpty { message += "; " + problems.joined(separator: "; ") }
        return RPCError(code: .unavailable, message: message)
    }

    // MARK: Name resolution

    /// Waits for the first answer for every name that has none yet.
    private func resolveNamesNotYetResolved(deadline: ContinuousClock.Instant?) async throws {
        let pending = state.withLock { state in
            state.targets.indices.filter { !state.targets[$0].resolved }
        }
        try await wait(for: startResolutions(of: pending, limited: true), until: deadline)
    }

    /// Resolves every name again and waits for the answers.
    func resolveAllNames() async {
        for task in startResolutions(of: nameIndices, limited: false) { await task.value }
    }

    /// Waits for resolutions on behalf of a call, but not past the call's deadline or its
    /// cancellation: a slow DNS server must not hold a call longer than its caller allows.
    /// The resolutions go on either way; other calls share them.
    private func wait(for resolutions: [Task<Void, Never>], until deadline: ContinuousClock.Instant?) async throws {
        guard !resolutions.isEmpty else { return }
        let gate = Gate()
        let timer = deadline.map { deadline in
            Task {
                try? await Task.sleep(until: deadline, clock: .continuous)
                gate.open()
            }
        }
        defer { timer?.cancel() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                gate.wait(continuation)
                Task {
                    for resolution in resolutions { await resolution.value }
                    gate.open()
                }
            }
        } onCancel: {
            gate.open()
        }
        if Task.isCancelled { throw RPCError(code: .cancelled, message: "the call was cancelled") }
        if let deadline, deadline <= .now {
            let names = Set(nameIndices.map { targets[$0].host }).sorted().joined(separator: ", ")
            throw RPCError(code: .deadlineExceeded, message: "the deadline passed while resolving \(names)")
        }
    }

    /// Starts a resolution of each name of `failed` whose subchannels are all down, without
    /// waiting for it: a call found none of its addresses answering.
    private func resolveWhenAllDown(_ failed: Set<Target>) {
        let indices = state.withLock { state in
            targets.indices.filter { index in
                failed.contains(targets[index])
                    && state.targets[index].subchannels.allSatisfy { $0.isBackingOff }
            }
        }
        guard !indices.isEmpty else { return }
        _ = startResolutions(of: indices, limited: true)
    }

    /// Starts resolving the targets at `indices`, or joins the resolution of a name already
    /// under way; `limited` skips names resolved less than `reresolutionSpacing` ago.
    private func startResolutions(of indices: [Int], limited: Bool) -> [Task<Void, Never>] {
        state.withLock { state in
            indices.compactMap { index -> Task<Void, Never>? in
                guard !state.closed else { return nil }
                // One resolution per name at a time: callers share the one in flight.
                if let running = state.targets[index].resolving { return running }
                if limited, let last = state.targets[index].lastResolution,
                    ContinuousClock.now - last < reresolutionSpacing
                {
                    return nil
                }
                state.targets[index].lastResolution = .now
                let task = Task { await self.resolveNow(index) }
                state.targets[index].resolving = task
                return task
            }
        }
    }

    /// Asks the resolver for target `index` and applies the answer: a subchannel per new
    /// address, the subchannels of vanished addresses drained. A failure keeps what is known.
    private func resolveNow(_ index: Int) async {
        let target = targets[index]
        let answer: Result<[SocketAddress], any Error>
        do {
            let addresses = try await resolver.resolve(host: target.host, port: target.port)
            answer =
                addresses.isEmpty
                ? .failure(NameResolutionError(host: target.host, reason: "no address")) : .success(addresses)
        } catch {
            answer = .failure(error)
        }
        let removed: [Subchannel] = state.withLock { state in
            state.targets[index].resolving = nil
            guard !state.closed else { return [] }
            let addresses: [SocketAddress]
            switch answer {
            case .failure(let error):
                state.targets[index].error = "\(error)"
                return []
            case .success(let resolved):
                addresses = resolved
            }
            var known: [SocketAddress: Subchannel] = [:]
            for subchannel in state.targets[index].subchannels {
                if let address = subchannel.address { known[address] = subchannel }
            }
            var subchannels: [Subchannel] = []
            for address in addresses where !subchannels.contains(where: { $0.address == address }) {
                subchannels.append(
                    known.removeValue(forKey: address)
                        ?? Subchannel(target: target, address: address, group: group, configuration: configuration))
            }
            if !state.targets[index].resolved { state.unresolved -= 1 }
            state.targets[index].subchannels = subchannels
            state.targets[index].resolved = true
            state.targets[index].error = nil
            state.rebuildRing()
            let removed = Array(known.values)
            state.draining.removeAll { $0.isDrained }
            state.draining.append(contentsOf: removed)
            return removed
        }
        for subchannel in removed { subchannel.drain() }
    }

    /// The subchannels of addresses that left a name's answer and have not been pruned yet.
    var drainingSubchannels: [Subchannel] {
        state.withLock { $0.draining }
    }

    /// Closes every connection, stops re-resolving and stops the event loops it made.
    public func close() async {
        let (subchannels, tasks) = state.withLock { state in
            state.closed = true
            let tasks = [state.refresher].compactMap { $0 } + state.targets.compactMap(\.resolving)
            state.refresher = nil
            return (state.ring + state.draining, tasks)
        }
        // A getaddrinfo under way cannot be interrupted; its answer is ignored once closed.
        for task in tasks { task.cancel() }
        for subchannel in subchannels { await subchannel.close() }
        if ownsGroup { try? await group.shutdownGracefully() }
    }
}

/// Resumes one waiting call once, whichever comes first: its resolutions answered, its
/// deadline passed, or it was cancelled (which may happen before it starts waiting).
private final class Gate: Sendable {
    private let state = Mutex<(waiter: CheckedContinuation<Void, Never>?, open: Bool)>((nil, false))

    /// Parks the waiting call, or resumes it at once if the gate is already open.
    func wait(_ continuation: CheckedContinuation<Void, Never>) {
        let resumeNow = state.withLock { state in
            if state.open { return true }
            state.waiter = continuation
            return false
        }
        if resumeNow { continuation.resume() }
    }

    /// Resumes the waiting call (once); later waits pass straight through.
    func open() {
        let waiter = state.withLock { state in
            defer { state = (nil, true) }
            return state.waiter
        }
        waiter?.resume()
    }
}

/// A subchannel whose connection attempt another call started is still under way.
private struct ConnectionUnderWay: Error {}

/// Why no subchannel took a call (nil when there was none to try).
private struct OpenFailure: Error {
    var error: (any Error)?
}

/// One address's connection, its state and its reconnection backoff.
final class Subchannel: Sendable {
    let target: Target
    /// The resolved address connected to; nil for a target whose host is an IP address,
    /// connected by host and port as given.
    let address: SocketAddress?
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
        /// Set when the address left the name's answer: no new calls, close after the last one.
        var draining = false
        /// Calls open on this subchannel (counted only for resolved addresses, which can drain).
        var calls = 0
    }

    private let locked = Mutex<Locked>(Locked())

    init(
        target: Target, address: SocketAddress?, group: MultiThreadedEventLoopGroup, configuration: ClientConfiguration
    ) {
        self.target = target
        self.address = address
        self.group = group
        self.configuration = configuration
    }

    /// Where this subchannel connects, for messages: `host:port`, plus the address for a name.
    private var name: String {
        guard let address, let ip = address.ipAddress else { return target.description }
        return address.protocol == .inet6 ? "\(target) ([\(ip)]:\(target.port))" : "\(target) (\(ip):\(target.port))"
    }

    /// Whether the last connection attempt failed and the backoff has not yet let another start.
    var isBackingOff: Bool {
        locked.withLock { locked in
            if case .backingOff = locked.state { return true }
            return false
        }
    }

    /// Whether a connection is open and taking calls.
    var isConnected: Bool {
        locked.withLock { locked in
            if case .ready = locked.state { return true }
            return false
        }
    }

    /// Whether the subchannel was drained and its last call has ended.
    var isDrained: Bool {
        locked.withLock { $0.draining && $0.calls == 0 }
    }

    /// A stream on this subchannel's connection, connecting first if needed; nil when the
    /// subchannel no longer takes calls. Throws when the address is unreachable (or still
    /// backing off after a failure), and `ConnectionUnderWay` when a connection attempt is
    /// under way and `joinConnectionUnderWay` is false.
    func openStream(
        descriptor: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?, request: [UInt8]? = nil,
        joinConnectionUnderWay: Bool = true
    ) async throws -> (any ClientStream)? {
        guard address != nil else {
            return try await openUncounted(
                descriptor: descriptor, metadata: metadata, deadline: deadline, request: request,
                join: joinConnectionUnderWay)
        }
        let admitted = locked.withLock { locked in
            guard !locked.draining else { return false }
            locked.calls += 1
            return true
        }
        guard admitted else { return nil }
        let stream: HTTP2ClientStream?
        do {
            stream = try await openUncounted(
                descriptor: descriptor, metadata: metadata, deadline: deadline, request: request,
                join: joinConnectionUnderWay)
        } catch {
            callEnded()
            throw error
        }
        guard let stream else {
            callEnded()
            return nil
        }
        return CountedClientStream(stream) { [self] in callEnded() }
    }

    private func openUncounted(
        descriptor: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?, request: [UInt8]?,
        join: Bool
    ) async throws -> HTTP2ClientStream? {
        for _ in 0..<2 {
            let connection = try await connection(join: join)
            let loop = connection.channel.eventLoop
            let stream =
                loop.inEventLoop
                ? connection.handler.openStream(
                    descriptor: descriptor, metadata: metadata, deadline: deadline, request: request)
                : try await loop.submit {
                    connection.handler.openStream(
                        descriptor: descriptor, metadata: metadata, deadline: deadline, request: request)
                }.get()
            if let stream { return stream }
            // The connection stopped taking calls (GOAWAY); forget it and connect again.
            forget(connection)
        }
        return nil
    }

    private func connection(join: Bool) async throws -> Connection {
        // The usual case, a connection that is up, without a future to wait on.
        if let ready = locked.withLock({ locked -> Connection? in
            if case .ready(let connection) = locked.state { return connection }
            return nil
        }) {
            return ready
        }
        let future: EventLoopFuture<Connection> = try locked.withLock { locked in
            switch locked.state {
            case .ready(let connection):
                return group.next().makeSucceededFuture(connection)
            case .connecting(let future):
                guard join else { throw ConnectionUnderWay() }
                return future
            case .backingOff(let until, let error):
                if ContinuousClock.now < until {
                    throw RPCError(code: .unavailable, message: "\(name) is unreachable: \(error)")
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
            throw RPCError(code: .unavailable, message: "cannot connect to \(name): \(error)")
        }
    }

    private func connect() -> EventLoopFuture<Connection> {
        let configuration = configuration
        // `:authority` is the target as configured (the name, not the address), as in gRPC.
        let authority = target.description
        // On the caller's loop when it runs on one of the group's: its calls then stay on it.
        let bootstrap = ClientBootstrap(group: group.any())
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.nanoseconds(configuration.connectTimeout.nanoseconds))
            .channelInitializer { channel in
                // The seam for TLS: a TLS handler would be added here, before the HTTP/2 one.
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ClientConnectionHandler(configuration: configuration, authority: authority))
                }
            }
        let connected =
            if let address { bootstrap.connect(to: address) } else {
                bootstrap.connect(host: target.host, port: target.port)
            }
        return connected.flatMapThrowing { channel in
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

    /// The address left the name's answer: take no new calls, and close the connection once
    /// the calls on it have ended.
    func drain() {
        let idle = locked.withLock { locked in
            locked.draining = true
            return takeConnectionIfDrained(&locked)
        }
        if let idle { Self.closeSoon(idle) }
    }

    private func callEnded() {
        let idle = locked.withLock { locked in
            locked.calls -= 1
            return takeConnectionIfDrained(&locked)
        }
        if let idle { Self.closeSoon(idle) }
    }

    private func takeConnectionIfDrained(_ locked: inout Locked) -> Connection? {
        guard locked.draining, locked.calls == 0, case .ready(let connection) = locked.state else { return nil }
        locked.state = .idle
        return connection
    }

    private static func closeSoon(_ connection: Connection) {
        connection.channel.eventLoop.execute { connection.handler.close() }
    }

    /// Closes the connection now, calls in flight included (the transport is closing).
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

/// A call on a subchannel of a resolved address: tells the subchannel once when the call is
/// over (its end received, cancelled, or the stream dropped), so that a drained subchannel
/// closes its connection after its last call.
final class CountedClientStream: ClientStream {
    private let stream: HTTP2ClientStream
    private let onEnd: @Sendable () -> Void
    private let ended = Atomic<Bool>(false)

    init(_ stream: HTTP2ClientStream, onEnd: @escaping @Sendable () -> Void) {
        self.stream = stream
        self.onEnd = onEnd
    }

    deinit { end() }

    func send(_ message: [UInt8]) async throws { try await stream.send(message) }

    func finishSending() async throws { try await stream.finishSending() }

    func receive() async -> ClientResponsePart {
        let part = await stream.receive()
        if case .end = part { end() }
        return part
    }

    func cancel() {
        stream.cancel()
        end()
    }

    private func end() {
        if !ended.exchange(true, ordering: .relaxed) { onEnd() }
    }
}
