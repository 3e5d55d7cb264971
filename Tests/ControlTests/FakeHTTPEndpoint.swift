import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A tiny HTTP/1.1 endpoint on 127.0.0.1 for http tools: records every request and answers
/// `{"echo": <the request body as JSON>, "method": ...}`; the path `/fail` answers 503.
final class FakeHTTPEndpoint: Sendable {
    /// What the endpoint saw.
    struct Recorded: Sendable {
        var method: String
        var uri: String
        var headers: [String: String]
        var body: String
    }

    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let box: Box
    /// The port listened on.
    let port: Int

    private init(group: MultiThreadedEventLoopGroup, channel: any Channel, box: Box) {
        self.group = group
        self.channel = channel
        self.box = box
        self.port = channel.localAddress?.port ?? 0
    }

    private final class Box: Sendable {
        let requests = Mutex<[Recorded]>([])
    }

    static func start() async throws -> FakeHTTPEndpoint {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let box = Box()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(box: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return FakeHTTPEndpoint(group: group, channel: channel, box: box)
    }

    var requests: [Recorded] { box.requests.withLock { $0 } }

    func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let box: Box
        private var head: HTTPRequestHead?
        private var body: [UInt8] = []

        init(box: Box) { self.box = box }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = []
            case .body(let buffer):
                body.append(contentsOf: buffer.readableBytesView)
            case .end:
                guard let head else { return }
                self.head = nil
                var headers: [String: String] = [:]
                for (name, value) in head.headers { headers[name.lowercased()] = value }
                let text = String(decoding: body, as: UTF8.self)
                box.requests.withLock {
                    $0.append(Recorded(method: head.method.rawValue, uri: head.uri, headers: headers, body: text))
                }
                let status: HTTPResponseStatus = head.uri.hasPrefix("/fail") ? .serviceUnavailable : .ok
                let echo = text.isEmpty ? "null" : text
                let answer = Array(#"{"method": "\#(head.method.rawValue)", "echo": \#(echo)}"#.utf8)
                var responseHead = HTTPResponseHead(version: .http1_1, status: status)
                responseHead.headers.add(name: "content-type", value: "application/json")
                responseHead.headers.add(name: "content-length", value: String(answer.count))
                context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: answer)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
