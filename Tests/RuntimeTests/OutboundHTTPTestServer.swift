import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A tiny HTTP/1.1 server on 127.0.0.1 for the outbound client's tests. Routes:
/// `/ok`, `/echo` (method and body back), `/redirect?to=URL&status=302`, `/chain/N` (N redirects,
/// then 200), `/big?n=BYTES[&chunked=1]`, `/hang` (never answers), `/stall` (head and a few bytes,
/// then nothing), `/sse` (an event every 20 ms until the client goes away).
final class OutboundTestServer: Sendable {
    /// What the server saw.
    struct Recorded: Sendable {
        var method: String
        var uri: String
        var headers: [String: String]
    }

    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let log: Log
    /// The port listened on.
    let port: Int

    final class Log: Sendable {
        let requests = Mutex<[Recorded]>([])
        let closedConnections = Mutex(0)
        let openedConnections = Mutex(0)
    }

    private init(group: MultiThreadedEventLoopGroup, channel: any Channel, log: Log) {
        self.group = group
        self.channel = channel
        self.log = log
        self.port = channel.localAddress?.port ?? 0
    }

    static func start() async throws -> OutboundTestServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let log = Log()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(log: log))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return OutboundTestServer(group: group, channel: channel, log: log)
    }

    /// Runs `body` with a started server, stopping it afterwards.
    static func with<T>(_ body: (OutboundTestServer) async throws -> T) async throws -> T {
        let server = try await start()
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }

    /// `http://127.0.0.1:PORT` + path.
    func url(_ path: String, host: String = "127.0.0.1") -> URL {
        URL(string: "http://\(host):\(port)\(path)")!
    }

    var requests: [Recorded] { log.requests.withLock { $0 } }
    var closedConnections: Int { log.closedConnections.withLock { $0 } }
    var openedConnections: Int { log.openedConnections.withLock { $0 } }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let log: Log
        private var head: HTTPRequestHead?
        private var body: [UInt8] = []
        private var active = true

        init(log: Log) {
            self.log = log
        }

        func channelActive(context: ChannelHandlerContext) {
            log.openedConnections.withLock { $0 += 1 }
            context.fireChannelActive()
        }

        func channelInactive(context: ChannelHandlerContext) {
            active = false
            log.closedConnections.withLock { $0 += 1 }
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
                log.requests.withLock {
                    $0.append(Recorded(method: head.method.rawValue, uri: head.uri, headers: headers))
                }
                route(head, context: context)
            }
        }

        private func route(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
            let components = URLComponents(string: head.uri)
            let path = components?.path ?? head.uri
            let query = Dictionary(
                (components?.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
            switch path {
            case "/ok":
                respond(context, status: .ok, body: Array("hello".utf8))
            case "/echo":
                respond(context, status: .ok, body: Array("\(head.method.rawValue) ".utf8) + body)
            case "/redirect":
                let status = HTTPResponseStatus(statusCode: Int(query["status"] ?? "302") ?? 302)
                respond(context, status: status, headers: [("location", query["to"] ?? "/ok")], body: [])
            case let chain where chain.hasPrefix("/chain/"):
                let remaining = Int(chain.dropFirst("/chain/".count)) ?? 0
                if remaining > 0 {
                    respond(context, status: .found, headers: [("location", "/chain/\(remaining - 1)")], body: [])
                } else {
                    respond(context, status: .ok, body: Array("end".utf8))
                }
            case "/big":
                let size = Int(query["n"] ?? "0") ?? 0
                if query["chunked"] == "1" {
                    var responseHead = HTTPResponseHead(version: .http1_1, status: .ok)
                    responseHead.headers.add(name: "transfer-encoding", value: "chunked")
                    context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
                    var sent = 0
                    while sent < size {
                        let piece = min(16 * 1024, size - sent)
                        let buffer = ByteBuffer(repeating: UInt8(ascii: "x"), count: piece)
                        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                        sent += piece
                    }
                    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                } else {
                    respond(context, status: .ok, body: [UInt8](repeating: UInt8(ascii: "x"), count: size))
                }
            case "/hang":
                break
            case "/stall":
                var responseHead = HTTPResponseHead(version: .http1_1, status: .ok)
                responseHead.headers.add(name: "content-length", value: "1000")
                context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
                let buffer = ByteBuffer(string: "partial")
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            case "/sse":
                var responseHead = HTTPResponseHead(version: .http1_1, status: .ok)
                responseHead.headers.add(name: "content-type", value: "text/event-stream")
                responseHead.headers.add(name: "transfer-encoding", value: "chunked")
                context.writeAndFlush(wrapOutboundOut(.head(responseHead)), promise: nil)
                tick(context, count: 0)
            default:
                respond(context, status: .notFound, body: Array("not found".utf8))
            }
        }

        private func tick(_ context: ChannelHandlerContext, count: Int) {
            guard active else { return }
            let buffer = ByteBuffer(string: "data: \(count)\n\n")
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(20)) {
                self.tick(context, count: count + 1)
            }
        }

        private func respond(
            _ context: ChannelHandlerContext, status: HTTPResponseStatus, headers: [(String, String)] = [],
            body: [UInt8]
        ) {
            var responseHead = HTTPResponseHead(version: .http1_1, status: status)
            for (name, value) in headers { responseHead.headers.add(name: name, value: value) }
            responseHead.headers.add(name: "content-length", value: String(body.count))
            context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
            if !body.isEmpty {
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
