public import Logging
import NIOCore
import NIOHTTP1
public import NIOPosix
import RuntimeHTTP
import Synchronization

/// Handles the edge's requests; the server calls it once per request, in order per connection.
public protocol EdgeRequestHandling: Sendable {
    /// Answers `request`: reads its body (or not) and writes exactly one response.
    func handle(_ request: EdgeRequest, body: RequestBody, response: HTTPResponseWriter) async
}

/// The edge's HTTP/1.1 listener: accepts connections up to `EDGE_MAX_CONNECTIONS`, cuts off
/// idle and slow ones, and serves each connection's requests in order (keep-alive).
public final class EdgeHTTPServer: Sendable {
    private typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    private let host: String
    private let requestedPort: Int
    private let limits: EdgeLimits
    private let trustedProxies: Set<IPAddress>
    private let eventLoops: MultiThreadedEventLoopGroup
    private let handler: any EdgeRequestHandling
    private let logger: Logger
    private let state = Mutex(State())
    private let open = ConnectionCount()
    private let draining = DrainFlag()

    private struct State {
        var listener: NIOAsyncChannel<Connection, Never>?
        var port: Int?
        /// Open connections, and whether each is between requests.
        var connections: [ObjectIdentifier: (channel: any Channel, idle: Bool)] = [:]
    }

    /// A server for `handler` on `host:port` (0: a free port).
    public init(
        host: String, port: Int, limits: EdgeLimits, trustedProxies: [String] = [],
        eventLoops: MultiThreadedEventLoopGroup, handler: any EdgeRequestHandling, logger: Logger
    ) {
        self.trustedProxies = Set(trustedProxies.compactMap(IPAddress.init))
        self.host = host
        requestedPort = port
        self.limits = limits
        self.eventLoops = eventLoops
        self.handler = handler
        self.logger = logger
    }

    /// The port listened on, once started.
    public var port: Int? { state.withLock { $0.port } }

    /// Binds the port.
    public func start() async throws {
        let limits = limits
        let open = open
        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
        decoderLimits.maxHeaderFieldSize = limits.maximumHeaderBytes
        decoderLimits.maxHeaderListSize = limits.maximumHeaderBytes
        decoderLimits.maxHeaderFieldCount = 256
        let listener = try await ServerBootstrap(group: eventLoops)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: requestedPort) { channel in
                channel.eventLoop.makeCompletedFuture { () throws -> Connection in
                    // Past the limit a connection is closed before anything is read from it.
                    guard open.take(limit: limits.maximumConnections) else {
                        channel.close(promise: nil)
                        throw ChannelError.inputClosed
                    }
                    channel.closeFuture.whenComplete { _ in open.release() }
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.configureHTTPServerPipeline(
                        // No pipelining assistance: the connection's task reads one request and
                        // answers it before the next (backpressure is the async channel's), and the
                        // assistant traps on a response to a request the parser refused, which
                        // ProtocolErrorResponder sends.
                        withPipeliningAssistance: false, withErrorHandling: false,
                        withOutboundHeaderValidation: true, withEncoderConfiguration: .init(),
                        withDecoderLimitConfiguration: decoderLimits)
                    try pipeline.addHandler(ProtocolErrorResponder())
                    try pipeline.addHandler(
                        TimeoutHandler(idleTimeout: limits.idleTimeout, requestTimeout: limits.requestTimeout))
                    return try Connection(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(isOutboundHalfClosureEnabled: false))
                }
            }
        state.withLock { state in
            state.listener = listener
            state.port = listener.channel.localAddress?.port ?? requestedPort
        }
    }

    /// Accepts and serves connections until `shutdown`.
    public func run() async throws {
        guard let listener = state.withLock({ $0.listener }) else { return }
        try await listener.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in inbound {
                    group.addTask { await self.serve(connection) }
                }
            }
        }
    }

    /// Stops accepting, lets the requests in flight finish for up to `grace`, then closes
    /// every connection.
    public func shutdown(grace: Duration) async {
        draining.set()
        let (listener, idle) = state.withLock { state in
            (state.listener, state.connections.values.filter(\.idle).map(\.channel))
        }
        try? await listener?.channel.close()
        for channel in idle { channel.close(promise: nil) }
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline, state.withLock({ !$0.connections.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(50))
        }
        for (channel, _) in state.withLock({ Array($0.connections.values) }) { channel.close(promise: nil) }
    }

    private func setIdle(_ channel: any Channel, _ idle: Bool) {
        state.withLock { $0.connections[ObjectIdentifier(channel)] = (channel, idle) }
    }

    private func serve(_ connection: Connection) async {
        let channel = connection.channel
        let key = ObjectIdentifier(channel)
        setIdle(channel, true)
        defer { _ = state.withLock { $0.connections.removeValue(forKey: key) } }
        let peer = channel.remoteAddress?.ipAddress ?? "unknown"
        do {
            try await connection.executeThenClose { inbound, outbound in
                let parts = InboundParts(inbound)
                while !draining.isSet, let part = try await parts.next() {
                    guard case .head(let head) = part else { return }
                    setIdle(channel, false)
                    let keepAlive = head.isKeepAlive && !draining.isSet
                    let response = HTTPResponseWriter(
                        outbound: outbound, keepAlive: keepAlive, commonHeaders: Self.commonHeaders)
                    let body = RequestBody(parts: parts)
                    if head.uri.utf8.count > limits.maximumHeaderBytes {
                        try await response.respond(
                            error: EdgeError(
                                status: .uriTooLong, code: "INVALID_ARGUMENT",
                                message: "the request target is longer than \(limits.maximumHeaderBytes) bytes"))
                        return
                    }
                    let address = ForwardedFor.clientAddress(
                        direct: peer, headerValues: head.headers[canonicalForm: "x-forwarded-for"].map(String.init),
                        trustedProxies: trustedProxies)
                    await handler.handle(
                        EdgeRequest(head: head, clientAddress: address), body: body, response: response)
                    if !response.finished {
                        // The handler failed to answer: the connection cannot be trusted any more.
                        return
                    }
                    // What the handler did not read of the body (a GET's empty one, say) is read
                    // and dropped, within the limit, so the connection can serve the next request.
                    guard keepAlive else { return }
                    if !body.isFinished, !(try await body.discard(limit: limits.maximumBodyBytes)) { return }
                    setIdle(channel, true)
                }
            }
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }

    /// Headers on every response.
    static let commonHeaders: HTTPHeaders = [
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
    ]
}

/// Answers a request the HTTP parser refused (431 for a head too large, 400 otherwise) with the
/// edge's JSON error, then closes the connection.
final class ProtocolErrorResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Whether a response is being written (then an error can only close the connection).
    private var responding = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head: responding = true
        case .end: responding = false
        case .body: break
        }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError, !responding else {
            context.close(promise: nil)
            return
        }
        let edgeError =
            parserError == .headerOverflow
            ? EdgeError(
                status: .requestHeaderFieldsTooLarge, code: "INVALID_ARGUMENT",
                message: "the request's headers are larger than allowed (EDGE_MAX_HEADER_BYTES)")
            : EdgeError.badRequest("the request is not valid HTTP/1.1 (\(parserError))")
        let body = edgeError.jsonBody()
        var headers = EdgeHTTPServer.commonHeaders
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(body.count))
        headers.add(name: "connection", value: "close")
        responding = true
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: edgeError.status, headers: headers))),
            promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}

/// Open connections, under a limit.
final class ConnectionCount: Sendable {
    private let value = Atomic<Int>(0)

    /// Counts one more connection; false (and not counted) when `limit` are open.
    func take(limit: Int) -> Bool {
        guard value.wrappingAdd(1, ordering: .relaxed).newValue <= limit else {
            value.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    /// Counts one connection less.
    func release() { value.wrappingSubtract(1, ordering: .relaxed) }
}
