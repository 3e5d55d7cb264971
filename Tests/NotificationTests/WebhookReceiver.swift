import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A fake webhook receiver (Slack, Teams or a generic endpoint) on 127.0.0.1: it records every
/// request and answers as its script says — 200, 500, 429 with Retry-After, slowly — and
/// tracks how many requests for one delivery are in flight at once.
final class WebhookReceiver: Sendable {
    /// One request as received.
    struct Request: Sendable {
        var method: String
        var uri: String
        var headers: [String: String]
        var body: [UInt8]
        var receivedAt: Date
        /// The answer it got.
        var answeredStatus: Int

        /// The body as a JSON object.
        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
        }

        /// The delivery's idempotency header.
        var idempotencyKey: String { headers["idempotency-key"] ?? "" }
    }

    /// How to answer.
    struct Answer: Sendable {
        var status: Int
        var headers: [(String, String)] = []
        var body: String = ""
        var delay: Duration = .zero
    }

    /// Picks the answer for a request, given how many earlier requests carried its idempotency key.
    typealias Script = @Sendable (_ previousAttempts: Int) -> Answer

    private struct State {
        var requests: [Request] = []
        var script: Script
        var inFlight: [String: Int] = [:]
        var maximumInFlight = 0
    }

    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let state: Mutex<State>
    /// The port listened on.
    let port: Int

    private init(group: MultiThreadedEventLoopGroup, channel: any Channel, script: @escaping Script) {
        self.group = group
        self.channel = channel
        self.state = Mutex(State(script: script))
        self.port = channel.localAddress?.port ?? 0
    }

    /// Starts a receiver answering with `script`.
    static func start(_ script: @escaping Script = { _ in Answer(status: 200, body: "ok") }) async throws
        -> WebhookReceiver
    {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let box = StateBox()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(box: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let receiver = WebhookReceiver(group: group, channel: channel, script: script)
        box.receiver.withLock { $0 = receiver }
        return receiver
    }

    /// Replaces the script.
    func answer(with script: @escaping Script) {
        state.withLock { $0.script = script }
    }

    func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }

    /// `http://127.0.0.1:PORT` + path.
    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Every request so far.
    var requests: [Request] { state.withLock { $0.requests } }

    /// The requests of one delivery.
    func requests(for deliveryID: String) -> [Request] { requests.filter { $0.idempotencyKey == deliveryID } }

    /// The most requests for one delivery that were in flight at the same time.
    var maximumInFlight: Int { state.withLock { $0.maximumInFlight } }

    fileprivate func begin(_ key: String) -> Answer {
        state.withLock { state in
            let previous = state.requests.filter { $0.idempotencyKey == key }.count
            state.inFlight[key, default: 0] += 1
            state.maximumInFlight = max(state.maximumInFlight, state.inFlight[key]!)
            return state.script(previous)
        }
    }

    fileprivate func finish(_ request: Request) {
        state.withLock { state in
            state.inFlight[request.idempotencyKey, default: 1] -= 1
            state.requests.append(request)
        }
    }

    private final class StateBox: Sendable {
        let receiver = Mutex<WebhookReceiver?>(nil)
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let box: StateBox
        private var head: HTTPRequestHead?
        private var body: [UInt8] = []

        init(box: StateBox) {
            self.box = box
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = []
            case .body(let buffer):
                body.append(contentsOf: buffer.readableBytesView)
            case .end:
                guard let head, let receiver = box.receiver.withLock({ $0 }) else { return }
                self.head = nil
                var headers: [String: String] = [:]
                for (name, value) in head.headers { headers[name.lowercased()] = value }
                let key = headers["idempotency-key"] ?? ""
                let answer = receiver.begin(key)
                var request = Request(
                    method: head.method.rawValue, uri: head.uri, headers: headers, body: body, receivedAt: Date(),
                    answeredStatus: answer.status)
                request.receivedAt = Date()
                let respond = {
                    receiver.finish(request)
                    var responseHead = HTTPResponseHead(
                        version: .http1_1, status: HTTPResponseStatus(statusCode: answer.status))
                    for (name, value) in answer.headers { responseHead.headers.add(name: name, value: value) }
                    responseHead.headers.add(name: "content-length", value: String(answer.body.utf8.count))
                    context.write(self.wrapOutboundOut(.head(responseHead)), promise: nil)
                    context.write(
                        self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: answer.body)))), promise: nil)
                    context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
                }
                if answer.delay > .zero {
                    let (seconds, attoseconds) = answer.delay.components
                    context.eventLoop.assumeIsolated().scheduleTask(
                        in: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
                    ) { respond() }
                } else {
                    respond()
                }
            }
        }
    }
}
