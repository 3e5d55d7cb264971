import NIOCore
import RPCCore

/// One HTTP/2 connection of a gRPC server: feeds bytes to nghttp2, routes each new stream to
/// its method, and writes what nghttp2 produces back to the socket, once per read batch.
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
    private(set) var executor: EventLoopTaskExecutor?
    private var peer = ""
    private var draining = false

    init(
        router: ServerRouter, interceptors: [any ServerInterceptor], configuration: ServerConfiguration,
        registry: ConnectionRegistry
    ) {
        self.router = router
        self.interceptors = interceptors
        self.configuration = configuration
        self.registry = registry
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        executor = EventLoopTaskExecutor(loop: context.eventLoop)
        peer = Self.describe(context.channel.remoteAddress)
        var settings = NGHTTP2Session.Settings()
        settings.maxConcurrentStreams = configuration.maximumConcurrentStreams
        guard let session = try? NGHTTP2Session(role: .server, delegate: self, settings: settings) else {
            context.close(promise: nil)
            return
        }
        io = HTTP2ConnectionIO(
            session: session, context: context, keepaliveInterval: configuration.keepaliveInterval,
            keepaliveTimeout: configuration.keepaliveTimeout)
        registry.add(self, loop: context.eventLoop)
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
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        io?.readComplete()
    }

    private func tearDown() {
        io?.stop()
        let open = streams.values
        streams.removeAll()
        for stream in open { stream.closed(errorCode: NGHTTP2Session.ErrorCode.cancel) }
        io = nil
        registry.remove(self)
    }

    /// Flushes soon: at the end of the current read batch, or on the next loop turn.
    func scheduleFlush() {
        io?.scheduleFlush()
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
        guard streams[streamID] == nil, let loop = executor?.loop else { return }
        streams[streamID] = ServerStream(
            id: streamID, loop: loop, connection: self,
            maximumMessageSize: configuration.maximumReceiveMessageSize)
    }

    func sessionReceivedHeader(streamID: Int32, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) {
        guard let stream = streams[streamID], !stream.headComplete else { return }
        stream.addHeader(name: name, value: value)
    }

    func sessionReceivedHeaders(streamID: Int32, endStream: Bool) {
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
            // Unary and server-streaming calls start once their one message is complete, so
            // the handler never waits for it; streaming requests start at once.
            if endStream || stream.serverMethod!.descriptor.kind.isClientStreaming { start(stream) }
        }
    }

    private enum Rejection {
        case http(Int)
        case grpc(Status)
    }

    /// Checks the request head; nil means it may be served.
    private func validate(_ stream: ServerStream) -> Rejection? {
        guard stream.contentType.hasPrefix("application/grpc") else { return .http(415) }
        guard stream.httpMethod == "POST" else { return .http(405) }
        if stream.headerBytes > 16 << 10 {
            return .grpc(Status(code: .resourceExhausted, message: "the request headers exceed 16 KiB"))
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
                    message: known ? "unknown method \(stream.path)" : "unknown service \(service)"))
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
        if let stream = streams[streamID] {
            stream.receiveData(bytes)
        } else {
            session?.consume(streamID: streamID, count: bytes.count)
        }
    }

    func sessionReceivedEndOfData(streamID: Int32) {
        guard let stream = streams[streamID] else { return }
        endOfRequest(stream)
    }

    func sessionClosedStream(streamID: Int32, errorCode: UInt32) {
        streams.removeValue(forKey: streamID)?.closed(errorCode: errorCode)
    }

    func sessionReadData(streamID: Int32, into buffer: UnsafeMutableRawBufferPointer) -> NGHTTP2Session.DataRead {
        guard let stream = streams[streamID] else { return .end(count: 0, endStream: true) }
        return stream.readData(into: buffer)
    }

    func sessionSentEndOfStream(streamID: Int32) {
        streams[streamID]?.sentEndOfStream()
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
