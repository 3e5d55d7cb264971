import NIOCore
import RPCCore

/// One HTTP/2 connection of a client: opens streams for calls, feeds nghttp2 the server's
/// bytes, and writes what nghttp2 produces. Confined to its channel's event loop.
final class ClientConnectionHandler: ChannelInboundHandler, NGHTTP2SessionDelegate, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let configuration: ClientConfiguration
    private let authority: String
    private var io: HTTP2ConnectionIO?
    private var session: NGHTTP2Session? { io?.session }
    private var loop: (any EventLoop)?
    private var streams: [Int32: HTTP2ClientStream] = [:]
    /// Set when the server sent GOAWAY or the connection failed: no new calls here.
    private(set) var isUsable = true
    /// Called once when the connection stops taking new calls.
    var onUnusable: (@Sendable () -> Void)?

    init(configuration: ClientConfiguration, authority: String) {
        self.configuration = configuration
        self.authority = authority
    }

    func handlerAdded(context: ChannelHandlerContext) {
        loop = context.eventLoop
        var settings = NGHTTP2Session.Settings()
        settings.maxConcurrentStreams = 100
        guard let session = try? NGHTTP2Session(role: .client, delegate: self, settings: settings) else {
            context.close(promise: nil)
            return
        }
        io = HTTP2ConnectionIO(
            session: session, context: context, keepaliveInterval: configuration.keepaliveInterval,
            keepaliveTimeout: configuration.keepaliveTimeout)
        if context.channel.isActive { io?.flush() }
    }

    func channelActive(context: ChannelHandlerContext) {
        io?.flush()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        tearDown()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        tearDown()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { io?.flush() }
        context.fireChannelWritabilityChanged()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if io?.receive(unwrapInboundIn(data)) == false { markUnusable() }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        io?.readComplete()
    }

    private func tearDown() {
        markUnusable()
        io?.stop()
        let open = streams.values
        streams.removeAll()
        for stream in open { stream.connectionLost() }
        io = nil
    }

    private func markUnusable() {
        guard isUsable else { return }
        isUsable = false
        onUnusable?()
    }

    // MARK: Calls

    /// Opens a stream for a call; nil when the connection no longer takes calls.
    func openStream(
        descriptor: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?, request: [UInt8]? = nil
    ) -> HTTP2ClientStream? {
        guard isUsable, let session, let loop else { return nil }
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
            loop: loop, connection: self, deadline: deadline,
            maximumMessageSize: configuration.maximumReceiveMessageSize)
        do {
            // The whole request, when known, is queued before the flush: one write carries it all.
            if let request { stream.queueWholeRequest(request) }
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
        io?.close()
    }

    /// Flushes soon: at the end of the current read batch, or on the next loop turn.
    func scheduleFlush() {
        io?.scheduleFlush()
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

    func sessionReceivedHeader(
        streamID: Int32, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        guard let stream = streams[streamID] else { return true }
        guard stream.countHeader(nameCount: name.count, valueCount: value.count) else { return false }
        stream.receiveHeader(
            name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
        return true
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
        io?.pingAcknowledged()
    }
}
