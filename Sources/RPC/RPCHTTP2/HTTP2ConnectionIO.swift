import NIOCore

/// What every HTTP/2 connection does, server or client: feed nghttp2 the bytes that arrive,
/// write what it produces once per read batch (or once per loop turn for work that finishes
/// later), and ping an idle peer. Confined to the channel's event loop.
final class HTTP2ConnectionIO: @unchecked Sendable {
    let session: NGHTTP2Session
    private var context: ChannelHandlerContext?
    private var reading = false
    private var flushScheduled = false
    private var lastRead = NIODeadline.now()
    private var keepaliveTimer: RepeatedTask?
    private var pingTimeout: Scheduled<Void>?
    private let keepaliveTimeout: TimeAmount

    init(
        session: NGHTTP2Session, context: ChannelHandlerContext, keepaliveInterval: Duration?,
        keepaliveTimeout: Duration
    ) {
        self.session = session
        self.context = context
        self.keepaliveTimeout = .nanoseconds(keepaliveTimeout.nanoseconds)
        if let keepaliveInterval {
            let interval = TimeAmount.nanoseconds(keepaliveInterval.nanoseconds)
            keepaliveTimer = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) {
                [weak self] _ in
                self?.keepaliveTick(interval: interval)
            }
        }
    }

    /// Feeds received bytes. A connection error makes nghttp2 queue GOAWAY; a peer that does
    /// not even send the HTTP/2 preface gets GOAWAY(PROTOCOL_ERROR). Returns false then.
    @discardableResult
    func receive(_ buffer: ByteBuffer) -> Bool {
        lastRead = .now()
        reading = true
        let result = buffer.withUnsafeReadableBytes { bytes in
            Result { () throws(NGHTTP2Error) in try session.receive(bytes) }
        }
        guard case .failure = result else { return true }
        session.terminate(errorCode: NGHTTP2Session.ErrorCode.protocolError)
        return false
    }

    /// The end of a read batch: write what it produced.
    func readComplete() {
        reading = false
        flush()
    }

    /// Writes everything nghttp2 has queued (unless the socket is not writable: then
    /// `channelWritabilityChanged` calls again); closes the connection once nghttp2 neither
    /// reads nor writes (after GOAWAY, or a fatal error).
    func flush() {
        guard let context, context.channel.isActive else { return }
        if context.channel.isWritable {
            var out = context.channel.allocator.buffer(capacity: 0)
            let result = Result { () throws(NGHTTP2Error) in
                try session.send { bytes in out.writeBytes(bytes) }
            }
            if out.readableBytes > 0 { context.writeAndFlush(NIOAny(out), promise: nil) }
            if case .failure = result {
                context.close(promise: nil)
                return
            }
        }
        if !session.wantsRead, !session.wantsWrite { context.close(promise: nil) }
    }

    /// Flushes soon: at the end of the current read batch, or on the next loop turn.
    func scheduleFlush() {
        guard !reading, !flushScheduled, let context else { return }
        flushScheduled = true
        context.eventLoop.execute {
            self.flushScheduled = false
            self.flush()
        }
    }

    /// The peer answered our PING.
    func pingAcknowledged() {
        pingTimeout?.cancel()
        pingTimeout = nil
    }

    /// Closes the connection.
    func close() {
        context?.close(promise: nil)
    }

    /// The connection is gone: stop the timers and let go of the channel.
    func stop() {
        keepaliveTimer?.cancel()
        keepaliveTimer = nil
        pingTimeout?.cancel()
        pingTimeout = nil
        context = nil
    }

    private func keepaliveTick(interval: TimeAmount) {
        guard let context, pingTimeout == nil, NIODeadline.now() - lastRead >= interval else { return }
        session.ping()
        flush()
        pingTimeout = context.eventLoop.scheduleTask(in: keepaliveTimeout) { [weak self] in
            self?.close()
        }
    }
}
