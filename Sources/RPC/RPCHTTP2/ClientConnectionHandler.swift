import NIOCore
import RPCCore

/// One HTTP/2 connection of a client: opens streams for calls, feeds nghttp2 the server's
/// bytes, and writes what nghttp2 produces. Confined to its channel's event loop.
final class ClientConnectionHandler: ChannelInboundHandler, NGHTTP2SessionDelegate, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let configuration: ClientConfiguration
    private let authority: String
    private var session: NGHTTP2Session?
    private var context: ChannelHandlerContext?
    private var streams: [Int32: HTTP2ClientStream] = [:]
    private var reading = false
    private var flushScheduled = false
    private var lastRead = NIODeadline.now()
    private var keepaliveTimer: RepeatedTask?
    private var pingTimeout: Scheduled<Void>?
    /// Set when the server sent GOAWAY or the connection failed: no new calls here.
    private(set) var isUsable = true
    /// Called once when the connection stops taking new calls.
    var onUnusable: (@Sendable () -> Void)?

    init(configuration: ClientConfiguration, authority: String) {
        self.configuration = configuration
        self.authority = authority
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        do {
            var settings = NGHTTP2Session.Settings()
            settings.maxConcurrentStreams = 100
            session = try NGHTTP2Session(role: .client, delegate: self, settings: settings)
        } catch {
            context.close(promise: nil)
            return
        }
        if let interval = configuration.keepaliveInterval {
            let amount = TimeAmount.nanoseconds(interval.nanoseconds)
            keepaliveTimer = context.eventLoop.scheduleRepeatedTask(initialDelay: amount, delay: amount) {
                [weak self] _ in
                self?.keepaliveTick(interval: amount)
            }
        }
        if context.channel.isActive { flush() }
    }

    func channelActive(context: ChannelHandlerContext) {
        flush()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        tearDown()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        tearDown()
        self.context = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { flush() }
        context.fireChannelWritabilityChanged()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let session else { return }
        let buffer = unwrapInboundIn(data)
        lastRead = .now()
        reading = true
        let result = buffer.withUnsafeReadableBytes { bytes in
            Result { () throws(NGHTTP2Error) in try session.receive(bytes) }
        }
        if case .failure = result {
            session.terminate(errorCode: NGHTTP2Session.ErrorCode.protocolError)
            markUnusable()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        reading = false
        flush()
    }

    private func tearDown() {
        markUnusable()
        keepaliveTimer?.cancel()
        keepaliveTimer = nil
        pingTimeout?.cancel()
        pingTimeout = nil
        let open = streams.values
        streams.removeAll()
        for stream in open { stream.connectionLost() }
        session = nil
    }

    private func markUnusable() {
        guard isUsable else { return }
        isUsable = false
        onUnusable?()
    }

    // MARK: Calls

    /// Opens a stream for a call; nil when the connection no longer takes calls.
    func openStream(
        descriptor: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?
    ) -> HTTP2ClientStream? {
        guard isUsable, let session, let context else { return nil }
        var headers = HeaderList()
        headers.add(":method", "POST")
        headers.add(":scheme", "http")
        headers.add(":path", descriptor.path)
        headers.add(":authority", authority)
        if let deadline {
            headers.add("grpc-timeout", WireFormats.encodeTimeout(max(.zero, deadline - .now)))
        }
        headers.add("content-type", "application/grpc")
        headers.add("te", "trailers")
        headers.add("user-agent", "grpc-swift-agentplane/0.1")
        for (key, value) in metadata {
            switch value {
            case .string(let text): headers.add(key, text)
            case .binary(let bytes): headers.add(key, WireFormats.base64Encode(bytes))
            }
        }
        let stream = HTTP2ClientStream(
            loop: context.eventLoop, connection: self, deadline: deadline,
            maximumMessageSize: configuration.maximumReceiveMessageSize)
        do {
            let id = try session.submitRequest(headers: headers)
            streams[id] = stream
            stream.opened(id: id)
        } catch {
            markUnusable()
            return nil
        }
        scheduleFlush()
        return stream
    }

    /// Closes the connection.
    func close() {
        markUnusable()
        context?.close(promise: nil)
    }

    // MARK: Output

    func flush() {
        guard let session, let context, context.channel.isActive else { return }
        if context.channel.isWritable {
            var out = context.channel.allocator.buffer(capacity: 0)
            let result = Result { () throws(NGHTTP2Error) in
                try session.send { bytes in out.writeBytes(bytes) }
            }
            if out.readableBytes > 0 { context.writeAndFlush(wrapOutboundOut(out), promise: nil) }
            if case .failure = result {
                context.close(promise: nil)
                return
            }
        }
        if !session.wantsRead, !session.wantsWrite { context.close(promise: nil) }
    }

    func scheduleFlush() {
        guard !reading, !flushScheduled, let context else { return }
        flushScheduled = true
        context.eventLoop.execute {
            self.flushScheduled = false
            self.flush()
        }
    }

    private func keepaliveTick(interval: TimeAmount) {
        guard let session, let context, pingTimeout == nil, NIODeadline.now() - lastRead >= interval else { return }
        session.ping()
        flush()
        pingTimeout = context.eventLoop.scheduleTask(in: .nanoseconds(configuration.keepaliveTimeout.nanoseconds)) {
            [weak self] in
            self?.close()
        }
    }

    // MARK: Used by streams

    func resumeData(streamID: Int32) { session?.resumeData(streamID: streamID) }
    func consume(streamID: Int32, count: Int) { session?.consume(streamID: streamID, count: count) }
    func consumeConnection(count: Int) { session?.consumeConnection(count: count) }
    func resetStream(streamID: Int32, errorCode: UInt32) {
        session?.resetStream(streamID: streamID, errorCode: errorCode)
    }

    // MARK: nghttp2 events

    func sessionBeganHeaders(streamID: Int32) {}

    func sessionReceivedHeader(streamID: Int32, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) {
        streams[streamID]?.receiveHeader(
            name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
    }

    func sessionReceivedHeaders(streamID: Int32, endStream: Bool) {
        streams[streamID]?.receivedHeaders(endStream: endStream)
    }

    func sessionReceivedData(streamID: Int32, bytes: UnsafeRawBufferPointer) {
        if let stream = streams[streamID] {
            stream.receiveData(bytes)
        } else {
            session?.consume(streamID: streamID, count: bytes.count)
        }
    }

    func sessionReceivedEndOfData(streamID: Int32) {
        // A response must end with trailers; if DATA ends it, the close reports it.
    }

    func sessionClosedStream(streamID: Int32, errorCode: UInt32) {
        streams.removeValue(forKey: streamID)?.closed(errorCode: errorCode)
    }

    func sessionReadData(streamID: Int32, into buffer: UnsafeMutableRawBufferPointer) -> NGHTTP2Session.DataRead {
        guard let stream = streams[streamID] else { return .end(count: 0, endStream: true) }
        return stream.readData(into: buffer)
    }

    func sessionSentEndOfStream(streamID: Int32) {}

    func sessionReceivedGoaway(lastStreamID: Int32, errorCode: UInt32) {
        markUnusable()
    }

    func sessionReceivedPingAck() {
        pingTimeout?.cancel()
        pingTimeout = nil
    }
}
