import NIOCore
import NIOHTTP1
import Saturating

/// Runs `ConnectionTimeouts` on a channel: watches request parts coming in and response parts
/// going out, and closes the connection (after a 408 for a slow request) when a timer fires.
final class TimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private var timeouts: ConnectionTimeouts
    private var timer: Scheduled<Void>?

    init(idleTimeout: Duration, requestTimeout: Duration) {
        timeouts = ConnectionTimeouts(idleTimeout: idleTimeout, requestTimeout: requestTimeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { perform(timeouts.opened(), context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        perform(timeouts.opened(), context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: perform(timeouts.requestStarted(), context: context)
        case .end: perform(timeouts.requestEnded(), context: context)
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { perform(timeouts.responseEnded(), context: context) }
        context.write(data, promise: promise)
    }

    private func perform(_ action: ConnectionTimeouts.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .arm(let after, let generation):
            timer?.cancel()
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            timer = context.eventLoop.scheduleTask(in: .nanoseconds(after.saturatingNanoseconds)) {
                let (handler, context) = loopBound.value
                handler.perform(handler.timeouts.timerFired(generation), context: context)
            }
        case .disarm:
            timer?.cancel()
            timer = nil
        case .close:
            context.close(promise: nil)
        case .requestTimedOut:
            let body = EdgeError(
                status: .requestTimeout, code: "DEADLINE_EXCEEDED",
                message: "the request was not received in time (EDGE_REQUEST_TIMEOUT)"
            ).jsonBody()
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/json")
            headers.add(name: "content-length", value: String(body.count))
            headers.add(name: "connection", value: "close")
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .requestTimeout, headers: headers))),
                promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
        }
    }
}
