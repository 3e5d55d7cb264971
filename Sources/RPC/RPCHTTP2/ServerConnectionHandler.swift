import NIOCore
import RPCCore

/// One HTTP/2 connection of a gRPC server: feeds bytes to nghttp2, routes each new stream to
/// its method, and writes what nghttp2 produces back to the socket, once per read batch.
/// Made with a `responder`, it serves plain HTTP requests instead (`HTTPRequestServer`).
///
/// Confined to its channel's event loop: every method runs there (closures handed to the
/// loop are the only way in from elsewhere), hence `@unchecked Sendable`.
final class ServerConnectionHandler: ChannelInboundHandler, NGHTTP2SessionDelegate, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let router: ServerRouter
    let interceptors: [any ServerInterceptor]
    private let configuration: ServerConfiguration
    private let registry: ConnectionRegistry
    private var io: HTTP2ConnectionIO?
    private var session: NGHTTP2Session? { io?.session }
    private var streams: [Int32: ServerStream] = [:]
    /// Answers plain HTTP requests; nil on a gRPC server.
    private let responder: (any HTTPStreamResponder)?
    /// How long a plain request's body may take to arrive.
    private let requestTimeout: Duration?
    /// The plain HTTP requests in progress (with a `responder`).
    private var requests: [Int32: HTTPRequestStream] = [:]
    private(set) var executor: EventLoopTaskExecutor?
    private var peer = ""
    private var remoteAddress: SocketAddress?
    private var draining = false
    private let limits: StreamLimits
    /// Request bytes all streams hold in buffers, against `maximumBufferedRequestBytes`.
    private var bufferedRequestBytes = 0
    private var idleTimer: Scheduled<Void>?
    /// Calls whose headers arrived in the bytes being read, to start once those are parsed.
    private var pendingStarts: [ServerStream] = []

    init(
        router: ServerRouter, interceptors: [any ServerInterceptor], configuration: ServerConfiguration,
        registry: ConnectionRegistry, responder: (any HTTPStreamResponder)? = nil, requestTimeout: Duration? = nil
    ) {
        self.responder = responder
        self.requestTimeout = requestTimeout
        self.router = router
        self.interceptors = interceptors
        self.configuration = configuration
        self.registry = registry
        self.limits = StreamLimits(configuration)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        executor = EventLoopTaskExecutor(loop: context.eventLoop)
        remoteAddress = context.channel.remoteAddress
        peer = Self.describe(remoteAddress)
        var settings = NGHTTP2Session.Settings()
        settings.maxConcurrentStreams = configuration.maximumConcurrentStreams
        settings.maxHeaderListSize = UInt32(clamping: configuration.maximumHeaderListSize)
        guard let session = try? NGHTTP2Session(role: .server, delegate: self, settings: settings) else {
            context.close(promise: nil)
            return
        }
        io = HTTP2ConnectionIO(
            session: session, context: context, keepaliveInterval: configuration.keepaliveInterval,
            keepaliveTimeout: configuration.keepaliveTimeout)
        if !registry.add(self, loop: context.eventLoop, limit: configuration.maximumConnections) {
            // Over the connection limit: GOAWAY, then close once it is written.
            session.terminate(errorCode: NGHTTP2Session.ErrorCode.enhanceYourCalm)
        } else {
            armIdleTimer()
        }
        if context.channel.isActive { io?.flush() }
    }

    func channelActive(context: ChannelHandlerContext) {
        io?.flush()
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        tearDown()
    }

    func channelInactive(context: ChannelHandlerContext) {
        tearDown()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { io?.flush() }
        context.fireChannelWritabilityChanged()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        io?.receive(unwrapInboundIn(data))
        startPending()
    }

    /// Starts the calls whose headers came in the bytes just parsed (and that did not start at
    /// the end of their request in the same bytes): their interceptors run now, before any
    /// later byte of their body is taken.
    private func startPending() {
        guard !pendingStarts.isEmpty else { return }
        let ready = pendingStarts
        pendingStarts.removeAll(keepingCapacity: true)
        for stream in ready where !stream.dispatched && !stream.finished { start(stream) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        io?.readComplete()
    }

    private func tearDown() {
        pendingStarts.removeAll()
        idleTimer?.cancel()
        idleTimer = nil
        io?.stop()
        let open = streams.values
        streams.removeAll()
        for stream in open { stream.closed(errorCode: NGHTTP2Session.ErrorCode.cancel) }
        let plain = requests.values
        requests.removeAll()
        for request in plain { request.closed(errorCode: NGHTTP2Session.ErrorCode.cancel) }
        io = nil
        registry.remove(self)
    }

    /// Flushes soon: at the end of the current read batch, or on the next loop turn.
    func scheduleFlush() {
        io?.scheduleFlush()
    }

    // MARK: Idle connections

    /// Starts the idle clock when no call is open; a call starting stops it.
    private func armIdleTimer() {
        guard let idleTimeout = configuration.idleTimeout, idleTimer == nil, streams.isEmpty, requests.isEmpty,
            let loop = executor?.loop
        else { return }
        idleTimer = loop.scheduleTask(in: .nanoseconds(idleTimeout.nanoseconds)) { [self] in
            idleTimer = nil
            guard streams.isEmpty, requests.isEmpty, let session else { return }
            // As gRPC's max_connection_idle: GOAWAY, and the connection closes once it is sent.
            session.terminate(errorCode: NGHTTP2Session.ErrorCode.noError)
            io?.flush()
        }
    }

    // MARK: Buffered request bytes

    /// The most request bytes this connection's streams may hold in buffers at once.
    var maximumBufferedRequestBytes: Int { configuration.maximumBufferedRequestBytes }

    /// Charges `count` more buffered bytes to the connection; false (nothing charged) when that
    /// would pass the limit.
    func chargeBuffered(_ count: Int) -> Bool {
        guard count <= configuration.maximumBufferedRequestBytes - bufferedRequestBytes else { return false }
        bufferedRequestBytes += count
        return true
    }

    /// Returns bytes a stream no longer holds.
    func releaseBuffered(_ count: Int) {
        bufferedRequestBytes = max(0, bufferedRequestBytes - count)
    }

    // MARK: Shutdown

    /// Starts a graceful shutdown: GOAWAY now; in-flight calls finish; the connection closes
    /// when the last one is done.
    func beginGracefulShutdown() {
        guard let session, !draining else { return }
        draining = true
        session.submitShutdownNotice()
        session.submitGoaway(errorCode: NGHTTP2Session.ErrorCode.noError)
        io?.flush()
    }

    /// Closes the connection now.
    func closeNow() {
        io?.close()
    }

    // MARK: Used by streams

    func submitResponse(streamID: Int32, headers: HeaderList, hasBody: Bool) {
        _ = session?.submitResponse(streamID: streamID, headers: headers, hasBody: hasBody)
    }

    func submitTrailers(streamID: Int32, headers: HeaderList) {
        _ = session?.submitTrailers(streamID: streamID, headers: headers)
    }

    func resumeData(streamID: Int32) {
        session?.resumeData(streamID: streamID)
    }

    func consume(streamID: Int32, count: Int) {
        session?.consume(streamID: streamID, count: count)
    }

    func consumeConnection(count: Int) {
        session?.consumeConnection(count: count)
    }

    func resetStream(streamID: Int32, errorCode: UInt32) {
        session?.resetStream(streamID: streamID, errorCode: errorCode)
    }

    // MARK: nghttp2 events

    func sessionBeganHeaders(streamID: Int32) {
        guard streams[streamID] == nil, requests[streamID] == nil, let loop = executor?.loop else { return }
        if responder != nil {
            requests[streamID] = HTTPRequestStream(
                id: streamID, loop: loop, connection: self, maximumHeaderListSize: limits.maximumHeaderListSize)
        } else {
            streams[streamID] = ServerStream(id: streamID, loop: loop, connection: self, limits: limits)
        }
        idleTimer?.cancel()
        idleTimer = nil
    }

    func sessionReceivedHeader(
        streamID: Int32, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        if let request = requests[streamID] { return request.addHeader(name: name, value: value) }
        guard let stream = streams[streamID] else { return true }
        // Counted while the block is decoded: HPACK lets a few bytes expand into a huge list.
        guard stream.countHeader(name: name, value: value) else { return false }
        if !stream.headComplete { stream.addHeader(name: name, value: value) }
        return true
    }

    func sessionReceivedHeaders(streamID: Int32, endStream: Bool) {
        if let request = requests[streamID] {
            requestHeadersComplete(request, endStream: endStream)
            return
        }
        guard let stream = streams[streamID] else { return }
        if stream.headComplete {
            // Trailers from a client: they only end its side.
            if endStream { endOfRequest(stream) }
            return
        }
        stream.headComplete = true
        switch validate(stream) {
        case .http(let code)?:
            var headers = HeaderList()
            headers.add(":status", String(code))
            headers.add("content-type", "text/plain")
            submitResponse(streamID: streamID, headers: headers, hasBody: false)
            stream.closed(errorCode: 0)
        case .grpc(let status)?:
            if endStream { stream.receiveEnd() }
            stream.finish(status: status, trailers: [:])
        case nil:
            if endStream { stream.receiveEnd() }
            // Streaming requests start at once. Unary and server-streaming calls start once their
            // one message is complete, so the handler never waits for it; with interceptors
            // (authentication) they also start once the bytes that brought their headers are
            // parsed, so a call refused there never has its body buffered beyond that read.
            if endStream || stream.serverMethod!.descriptor.kind.isClientStreaming {
                start(stream)
            } else if !interceptors.isEmpty {
                pendingStarts.append(stream)
            }
        }
    }

    /// A plain request's head (or trailers) is complete: start its responder, unless draining.
    private func requestHeadersComplete(_ request: HTTPRequestStream, endStream: Bool) {
        if request.headComplete {
            if endStream { request.receiveEnd() }
            return
        }
        request.headComplete = true
        if endStream { request.receiveEnd() }
        guard let responder, let executor, !draining else {
            // After GOAWAY a new request is refused so the client may retry it elsewhere.
            session?.resetStream(streamID: request.id, errorCode: NGHTTP2Session.ErrorCode.refusedStream)
            return
        }
        request.dispatch(
            responder: responder, executor: executor, requestTimeout: requestTimeout, remoteAddress: remoteAddress)
    }

    private enum Rejection {
        case http(Int)
        case grpc(Status)
    }

    /// Checks the request head; nil means it may be served.
    private func validate(_ stream: ServerStream) -> Rejection? {
        guard stream.contentType.hasPrefix("application/grpc") else { return .http(415) }
        guard stream.httpMethod == "POST" else { return .http(405) }
        if stream.headerBytes > limits.maximumHeaderListSize {
            return .grpc(
                Status(
                    code: .resourceExhausted,
                    message: "the request headers exceed \(limits.maximumHeaderListSize) bytes"))
        }
        if !stream.encoding.isEmpty, stream.encoding != "identity" {
            return .grpc(Status(code: .unimplemented, message: "compression '\(stream.encoding)' is not supported"))
        }
        if stream.timeoutInvalid {
            return .grpc(Status(code: .internalError, message: "the grpc-timeout header is malformed"))
        }
        if draining {
            return .grpc(Status(code: .unavailable, message: "the server is shutting down"))
        }
        guard let method = router.method(forPath: stream.path) else {
            let service = stream.path.split(separator: "/").first.map(String.init) ?? ""
            let known = router.serviceNames.contains(service)
            return .grpc(
                Status(
                    code: .unimplemented,
                    message: known
                        ? "unknown method \(ClientInput.excerpt(stream.path))"
                        : "unknown service \(ClientInput.excerpt(service))"))
        }
        stream.serverMethod = method
        return nil
    }

    private func start(_ stream: ServerStream) {
        guard let executor else { return }
        stream.dispatch(
            interceptors: interceptors, executor: executor, peer: peer, maximumTimeout: configuration.maximumTimeout)
    }

    private func endOfRequest(_ stream: ServerStream) {
        stream.receiveEnd()
        if stream.serverMethod != nil, !stream.dispatched, !stream.finished { start(stream) }
    }

    func sessionReceivedData(streamID: Int32, bytes: UnsafeRawBufferPointer) {
        if let request = requests[streamID] {
            request.receiveData(bytes)
        } else if let stream = streams[streamID] {
            stream.receiveData(bytes)
        } else {
            session?.consume(streamID: streamID, count: bytes.count)
        }
    }

    func sessionReceivedEndOfData(streamID: Int32) {
        if let request = requests[streamID] {
            request.receiveEnd()
            return
        }
        guard let stream = streams[streamID] else { return }
        endOfRequest(stream)
    }

    func sessionClosedStream(streamID: Int32, errorCode: UInt32) {
        streams.removeValue(forKey: streamID)?.closed(errorCode: errorCode)
        requests.removeValue(forKey: streamID)?.closed(errorCode: errorCode)
        if streams.isEmpty, requests.isEmpty { armIdleTimer() }
    }

    func sessionReadData(streamID: Int32, into buffer: UnsafeMutableRawBufferPointer) -> NGHTTP2Session.DataRead {
        if let request = requests[streamID] { return request.readData(into: buffer) }
        guard let stream = streams[streamID] else { return .end(count: 0, endStream: true) }
        return stream.readData(into: buffer)
    }

    func sessionSentEndOfStream(streamID: Int32) {
        streams[streamID]?.sentEndOfStream()
        requests[streamID]?.sentEndOfStream()
    }

    func sessionReceivedGoaway(lastStreamID: Int32, errorCode: UInt32) {}

    func sessionReceivedPingAck() {
        io?.pingAcknowledged()
    }

    private static func describe(_ address: SocketAddress?) -> String {
        guard let address else { return "unknown" }
        switch address {
        case .v4: return "ipv4:\(address.ipAddress ?? ""):\(address.port ?? 0)"
        case .v6: return "ipv6:[\(address.ipAddress ?? "")]:\(address.port ?? 0)"
        case .unixDomainSocket: return "unix:\(address.pathname ?? "")"
        }
    }
}
