import NIOCore
import Saturating

/// A Redis connection's protocol on its NIO channel: sends a batch of commands, parses the
/// replies with hiredis's reader as bytes arrive, and completes the batch's promise once all
/// its replies are in. Any failure (the peer closing, a timeout, bytes that are not RESP) fails
/// the batch in flight and closes the channel: a connection is never reused out of step.
/// Used on its channel's event loop only.
final class RedisChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let reader: RedisReplyReader
    private var exchange = RedisExchangeState()
    private var pending: EventLoopPromise<[RedisReply]>?
    private var timeout: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    /// A handler with a fresh reply reader.
    init() throws {
        reader = try RedisReplyReader()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        fail(RedisError(code: .connection, message: "the connection to Redis was closed"))
        self.context = nil
    }

    /// Sends `commands` in one write; `promise` gets their replies in order, or the failure.
    /// Fails with `RedisConnection.Undelivered` when nothing could be sent.
    func send(_ commands: [[RedisArgument]], timeout: Duration, promise: EventLoopPromise<[RedisReply]>) {
        guard let context, context.channel.isActive, !exchange.isFailed else {
            promise.fail(Self.closed)
            return
        }
        guard exchange.sent(count: commands.count) else {
            promise.fail(RedisError(code: .invalidArgument, message: "a batch is already in flight on this connection"))
            return
        }
        pending = promise
        var buffer = context.channel.allocator.buffer(capacity: RedisCommandEncoding.size(commands))
        RedisCommandEncoding.write(commands, into: &buffer)
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.timeout = context.eventLoop.scheduleTask(in: .nanoseconds(max(1, timeout.saturatingNanoseconds))) {
            bound.value.fail(
                RedisError(code: .timeout, message: "Redis did not answer in time; the connection was discarded"))
        }
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { error in
            bound.value.fail(RedisError(code: .connection, message: "cannot write to Redis: \(error)"))
        }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: written)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            try buffer.withUnsafeReadableBytes { try reader.feed($0) }
            while !exchange.isFailed, let reply = try reader.next() {
                switch exchange.received(reply) {
                case .wait:
                    continue
                case .complete(let replies):
                    timeout?.cancel()
                    timeout = nil
                    let promise = pending
                    pending = nil
                    promise?.succeed(replies)
                case .unexpectedReply:
                    fail(RedisError(code: .protocol, message: "Redis sent a reply no command asked for"))
                }
            }
        } catch {
            fail(error as? RedisError ?? RedisError(code: .protocol, message: "\(error)"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(RedisError(code: .connection, message: "Redis closed the connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(RedisError(code: .connection, message: "the connection to Redis failed: \(error)"))
    }

    /// Fails the batch in flight with `error` and closes the channel; later sends fail too.
    private func fail(_ error: any Error) {
        timeout?.cancel()
        timeout = nil
        let wasOpen = !exchange.isFailed
        _ = exchange.failed()
        if let promise = pending {
            pending = nil
            promise.fail(error)
        }
        if wasOpen, let context, context.channel.isActive { context.close(promise: nil) }
    }

    private static let closed = RedisConnection.Undelivered(
        error: RedisError(code: .connection, message: "the connection to Redis is closed"))
}
