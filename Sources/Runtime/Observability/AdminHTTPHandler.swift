import NIOCore
import NIOHTTP1
import Prometheus

/// Answers the admin routes on one HTTP/1.1 connection.
///
/// `HTTPServerPipelineHandler` in front of it holds back a pipelined request until the previous
/// response has ended, so answers go out in order even when `/readyz` waits for its checks.
final class AdminHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let registry: PrometheusCollectorRegistry
    private let readiness: @Sendable () async -> ReadinessReport
    private var request: HTTPRequestHead?

    init(registry: PrometheusCollectorRegistry, readiness: @escaping @Sendable () async -> ReadinessReport) {
        self.registry = registry
        self.readiness = readiness
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break
        case .end:
            guard let head = request else { return }
            request = nil
            route(head, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func route(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard head.method == .GET || head.method == .HEAD else {
            respond(
                to: head, status: .methodNotAllowed, body: "method not allowed\n", extra: [("allow", "GET, HEAD")],
                context: context)
            return
        }
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        switch path {
        case "/metrics":
            respond(
                to: head, status: .ok, body: registry.emitToBuffer(),
                contentType: "text/plain; version=0.0.4; charset=utf-8", context: context)
        case "/healthz":
            respond(to: head, status: .ok, body: "ok\n", context: context)
        case "/readyz":
            let promise = context.eventLoop.makePromise(of: ReadinessReport.self)
            promise.completeWithTask { [readiness] in await readiness() }
            promise.futureResult.assumeIsolated().whenSuccess { report in
                self.respond(
                    to: head, status: report.ready ? .ok : .serviceUnavailable, body: report.json,
                    contentType: "application/json", context: context)
            }
        default:
            respond(to: head, status: .notFound, body: "not found\n", context: context)
        }
    }

    private func respond(
        to request: HTTPRequestHead, status: HTTPResponseStatus, body: String,
        extra: [(String, String)] = [], context: ChannelHandlerContext
    ) {
        respond(
            to: request, status: status, body: Array(body.utf8), contentType: "text/plain; charset=utf-8",
            extra: extra, context: context)
    }

    private func respond(
        to request: HTTPRequestHead, status: HTTPResponseStatus, body: [UInt8], contentType: String,
        extra: [(String, String)] = [], context: ChannelHandlerContext
    ) {
        guard context.channel.isActive else { return }
        let keepAlive = request.isKeepAlive
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "content-length", value: String(body.count))
        headers.add(contentsOf: extra)
        if !keepAlive {
            headers.add(name: "connection", value: "close")
        } else if request.version == .http1_0 {
            headers.add(name: "connection", value: "keep-alive")
        }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))),
            promise: nil)
        // A response to HEAD announces the length of the body it leaves out.
        if request.method != .HEAD {
            context.write(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            written.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
        }
    }
}
