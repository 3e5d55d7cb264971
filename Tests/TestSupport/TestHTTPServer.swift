import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// One request as a test HTTP server received it, body complete.
public struct TestHTTPRequest: Sendable {
    /// `GET`, `POST`, …
    public var method: String
    /// The request target as sent: path and query.
    public var uri: String
    /// Header names lowercased; a repeated header keeps its last value.
    public var headers: [String: String]
    /// The body's bytes.
    public var body: [UInt8]

    /// The path without the query.
    public var path: String { URLComponents(string: uri)?.path ?? uri }
    /// The query's items; a repeated name keeps its last value.
    public var query: [String: String] {
        Dictionary(
            (URLComponents(string: uri)?.queryItems ?? []).map { ($0.name, $0.value ?? "") },
            uniquingKeysWith: { $1 })
    }
    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }
    /// The body as a JSON object, empty when it is not one.
    public var jsonObject: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }
}

/// The answer to one request, written on its connection's event loop: a whole response, a
/// stream of chunks, a closed connection, or nothing at all (a stalled server).
public final class TestHTTPResponder {
    private let context: ChannelHandlerContext
    private let connection: TestHTTPServer.Connection

    fileprivate init(context: ChannelHandlerContext, connection: TestHTTPServer.Connection) {
        self.context = context
        self.connection = connection
    }

    /// Whether the client is still connected.
    public var isConnected: Bool { connection.isActive }

    /// A complete response with a content-length.
    public func respond(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        var head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status))
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        head.headers.add(name: "content-length", value: String(body.count))
        context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        if !body.isEmpty {
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        }
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
    }

    /// A complete response with a text body.
    public func respond(status: Int, headers: [(String, String)] = [], body: String) {
        respond(status: status, headers: headers, body: Array(body.utf8))
    }

    /// A complete JSON response (`value` as JSONSerialization takes it, fragments allowed).
    public func respond(status: Int, json value: Any, headers: [(String, String)] = []) {
        let bytes = (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed])) ?? Data()
        respond(
            status: status, headers: [("content-type", "application/json; charset=utf-8")] + headers,
            body: Array(bytes))
    }

    /// The head of a response whose body follows in chunks (`send`, then `end`).
    public func startStream(status: Int = 200, headers: [(String, String)]) {
        var head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status))
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        head.headers.add(name: "transfer-encoding", value: "chunked")
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
    }

    /// The head of a response with a content-length the body may never reach.
    public func startBody(status: Int = 200, contentLength: Int) {
        var head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status))
        head.headers.add(name: "content-length", value: String(contentLength))
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
    }

    /// One piece of the body, sent at once.
    public func send(_ bytes: [UInt8]) {
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: bytes)))), promise: nil)
    }

    /// One piece of the body as UTF-8, sent at once.
    public func send(_ text: String) { send(Array(text.utf8)) }

    /// The end of a streamed body.
    public func end() {
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
    }

    /// Closes the connection without (more of) an answer.
    public func close() {
        context.close(promise: nil)
    }

    /// Runs `body` on this connection's event loop after `delay`.
    public func after(_ delay: Duration, _ body: @escaping () -> Void) {
        let (seconds, attoseconds) = delay.components
        context.eventLoop.assumeIsolated().scheduleTask(
            in: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        ) { body() }
    }
}

/// A small HTTP/1.1 server on 127.0.0.1 for tests that need an outside service (OpenAI,
/// Zammad, a webhook, an http tool's endpoint): it collects each request and hands it to the
/// test's handler, on the connection's event loop, to answer through a `TestHTTPResponder`.
public final class TestHTTPServer: Sendable {
    /// Answers one request; runs on the connection's event loop, so it must not block.
    public typealias Handler = @Sendable (TestHTTPRequest, TestHTTPResponder) -> Void

    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let counters: Counters
    /// The port listened on.
    public let port: Int

    private init(group: MultiThreadedEventLoopGroup, channel: any Channel, counters: Counters) {
        self.group = group
        self.channel = channel
        self.counters = counters
        self.port = channel.localAddress?.port ?? 0
    }

    /// A started server answering with `handler`.
    public static func start(_ handler: @escaping Handler) async throws -> TestHTTPServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let counters = Counters()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        RequestHandler(handler: handler, counters: counters))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TestHTTPServer(group: group, channel: channel, counters: counters)
    }

    /// Stops listening and closes every connection; later calls do nothing (closing a channel
    /// of a loop that has shut down is an error NIO reports).
    public func stop() async {
        guard
            counters.stopped.withLock({ stopped in
                defer { stopped = true }
                return !stopped
            })
        else { return }
        try? await channel.close()
        try? await group.shutdownGracefully()
    }

    /// `http://HOST:PORT` + `path`.
    public func url(_ path: String = "", host: String = "127.0.0.1") -> String { "http://\(host):\(port)\(path)" }

    /// Connections accepted so far.
    public var openedConnections: Int { counters.opened.withLock { $0 } }
    /// Connections closed so far, by either side.
    public var closedConnections: Int { counters.closed.withLock { $0 } }

    private final class Counters: Sendable {
        let opened = Mutex(0)
        let closed = Mutex(0)
        let stopped = Mutex(false)
    }

    /// Whether a connection is still open, for answers that go on after a delay.
    fileprivate final class Connection {
        var isActive = true
    }

    private final class RequestHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let handler: Handler
        private let counters: Counters
        private let connection = Connection()
        private var head: HTTPRequestHead?
        private var body: [UInt8] = []

        init(handler: @escaping Handler, counters: Counters) {
            self.handler = handler
            self.counters = counters
        }

        func channelActive(context: ChannelHandlerContext) {
            counters.opened.withLock { $0 += 1 }
            context.fireChannelActive()
        }

        func channelInactive(context: ChannelHandlerContext) {
            connection.isActive = false
            counters.closed.withLock { $0 += 1 }
            context.fireChannelInactive()
        }

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
                let request = TestHTTPRequest(method: head.method.rawValue, uri: head.uri, headers: headers, body: body)
                handler(request, TestHTTPResponder(context: context, connection: connection))
            }
        }
    }
}
