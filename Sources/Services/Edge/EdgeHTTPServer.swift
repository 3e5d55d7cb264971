public import Logging
import NIOCore
import NIOHTTP1
public import NIOPosix
public import NIOSSL
import NIOTLS
import RPCHTTP2
import RuntimeHTTP
import Saturating
import Synchronization

/// Handles the edge's requests; the server calls it once per request, in order per connection.
public protocol EdgeRequestHandling: Sendable {
    /// Answers `request`: reads its body (or not) and writes exactly one response.
    func handle(_ request: EdgeRequest, body: RequestBody, response: HTTPResponseWriter) async
}

/// The edge's listener: accepts connections up to `EDGE_MAX_CONNECTIONS` and cuts off idle and
/// slow ones. In cleartext it speaks HTTP/1.1 (keep-alive; each connection's requests in order);
/// with TLS, ALPN picks HTTP/2 (RPCHTTP2's nghttp2 layer, streams served concurrently) or
/// HTTP/1.1.
public final class EdgeHTTPServer: Sendable {
    private typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// What a new connection became once its protocol was known.
    private enum Accepted: Sendable {
        /// An HTTP/1.1 connection, served by a task of the listener's.
        case http1(Connection)
        /// An HTTP/2 connection, served by its handler on the event loop.
        case http2
    }

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
    /// TLS, when `TLS_CERT_FILE` and `TLS_KEY_FILE` are set.
    private let tls: NIOSSLContext?
    /// The HTTP/2 side (used with TLS only).
    private let http2: HTTPRequestServer

    private struct State {
        var listener: NIOAsyncChannel<EventLoopFuture<Accepted>, Never>?
        var port: Int?
        /// Open connections, and whether each is between requests.
        var connections: [ObjectIdentifier: (channel: any Channel, idle: Bool)] = [:]
    }

    /// A server for `handler` on `host:port` (0: a free port); with `tls`, HTTPS with ALPN
    /// (`h2`, `http/1.1`).
    public init(
        host: String, port: Int, limits: EdgeLimits, trustedProxies: [String] = [], tls: NIOSSLContext? = nil,
        eventLoops: MultiThreadedEventLoopGroup, handler: any EdgeRequestHandling, logger: Logger
    ) {
        self.trustedProxies = Set(trustedProxies.compactMap(IPAddress.init))
        self.tls = tls
        var http2Configuration = ServerConfiguration(
            host: host, port: port, maximumConcurrentStreams: UInt32(limits.maximumStreamsPerConnection),
            keepaliveInterval: limits.idleTimeout)
        http2Configuration.idleTimeout = limits.idleTimeout
        http2Configuration.maximumHeaderListSize = limits.maximumHeaderBytes
        // Counted by the listener for both protocols.
        http2Configuration.maximumConnections = Int.max
        http2 = HTTPRequestServer(
            configuration: http2Configuration, requestTimeout: limits.requestTimeout,
            responder: EdgeHTTP2Responder(
                handler: handler, limits: limits, trustedProxies: Set(trustedProxies.compactMap(IPAddress.init))))
        self.host = host
        requestedPort = port
        self.limits = limits
        self.eventLoops = eventLoops
        self.handler = handler
        self.logger = logger
    }

    /// The port listened on, once started.
    public var port: Int? { state.withLock { $0.port } }

    /// Makes the TLS context from PEM files: the certificate chain and its private key; ALPN
    /// offers `h2` first.
    public static func tlsContext(certificateFile: String, keyFile: String) throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
        let key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["h2", "http/1.1"]
        return try NIOSSLContext(configuration: configuration)
    }

    /// Binds the port.
    public func start() async throws {
        let limits = limits
        let open = open
        let tls = tls
        let http2 = http2
        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
        decoderLimits.maxHeaderFieldSize = limits.maximumHeaderBytes
        decoderLimits.maxHeaderListSize = limits.maximumHeaderBytes
        decoderLimits.maxHeaderFieldCount = 256
        let http1Limits = decoderLimits
        let listener = try await ServerBootstrap(group: eventLoops)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: requestedPort) { channel in
                channel.eventLoop.makeCompletedFuture { () throws -> EventLoopFuture<Accepted> in
                    // Past the limit a connection is closed before anything is read from it.
                    guard open.take(limit: limits.maximumConnections) else {
                        channel.close(promise: nil)
                        throw ChannelError.inputClosed
                    }
                    channel.closeFuture.whenComplete { _ in open.release() }
                    guard let tls else {
                        return channel.eventLoop.makeSucceededFuture(
                            .http1(try Self.configureHTTP1(channel, limits: limits, decoderLimits: http1Limits)))
                    }
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(NIOSSLServerHandler(context: tls))
                    let negotiation = NIOTypedApplicationProtocolNegotiationHandler<Accepted> { result, channel in
                        channel.eventLoop.makeCompletedFuture {
                            if case .negotiated("h2") = result {
                                try http2.configure(channel)
                                return .http2
                            }
                            return .http1(try Self.configureHTTP1(channel, limits: limits, decoderLimits: http1Limits))
                        }
                    }
                    try pipeline.addHandler(negotiation)
                    // A client that never finishes its handshake holds a connection: cut it off.
                    let handshake = channel.eventLoop.scheduleTask(
                        in: .nanoseconds(limits.requestTimeout.saturatingNanoseconds)
                    ) {
                        channel.close(promise: nil)
                    }
                    negotiation.protocolNegotiationResult.whenComplete { _ in handshake.cancel() }
                    return negotiation.protocolNegotiationResult
                }
            }
        state.withLock { state in
            state.listener = listener
            state.port = listener.channel.localAddress?.port ?? requestedPort
        }
    }

    /// Sets up HTTP/1.1 on `channel` (after TLS, if any) and wraps it for a serving task.
    private static func configureHTTP1(
        _ channel: any Channel, limits: EdgeLimits, decoderLimits: NIOHTTPDecoderLimitConfiguration
    ) throws -> Connection {
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

    /// Accepts and serves connections until `shutdown`.
    public func run() async throws {
        guard let listener = state.withLock({ $0.listener }) else { return }
        try await listener.executeThenClose { inbound in
            try await withThrowingDiscardingTaskGroup { group in
                for try await accepted in inbound {
                    // The connection's task prefers the connection's event loop: reading a request,
                    // forwarding it (the clients to the services share the loops) and writing the
                    // answer then need no thread switch.
                    group.addTask(executorPreference: EventLoopTaskExecutor(loop: accepted.eventLoop)) {
                        // A failed handshake has closed its connection already.
                        guard case .http1(let connection)? = try? await accepted.get() else { return }
                        await self.serve(connection)
                    }
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
        http2.beginGracefulShutdown()
        let deadline = ContinuousClock.now + grace
        while ContinuousClock.now < deadline,
            state.withLock({ !$0.connections.isEmpty }) || http2.connectionCount > 0
        {
            try? await Task.sleep(for: .milliseconds(50))
        }
        for (channel, _) in state.withLock({ Array($0.connections.values) }) { channel.close(promise: nil) }
        http2.closeAll()
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
        let isTLS = tls != nil
        do {
            try await connection.executeThenClose { inbound, outbound in
                let parts = InboundParts(inbound)
                while !draining.isSet, let part = try await parts.next() {
                    guard case .head(let head) = part else { return }
                    setIdle(channel, false)
                    let keepAlive = head.isKeepAlive && !draining.isSet
                    let response = HTTPResponseWriter(
                        sink: HTTP1ResponseSink(outbound: outbound), keepAlive: keepAlive,
                        commonHeaders: Self.commonHeaders)
                    let body = RequestBody(source: parts)
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
                        EdgeRequest(head: head, clientAddress: address, isTLS: isTLS), body: body, response: response)
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
