import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A small HTTP/1.1 server on 127.0.0.1 speaking OpenAI's Chat Completions (with SSE streaming
/// and `[DONE]`) and Embeddings. The `model` in each request picks the behaviour:
///
/// - `echo`: answers "echo: <last message>" with usage 11/7; streamed as three deltas.
/// - `tools`: answers with a tool call `lookup` whose arguments are `{"q":"vpn"}` (streamed in
///   two argument fragments).
/// - `flaky-429`: the first request of each test run gets 429 with `Retry-After: 1`, later ones
///   behave like `echo`.
/// - `always-429`: 429 with `Retry-After: 30`, always.
/// - `always-500` / `always-503`: that status, always.
/// - `bad-request`: 400 with an OpenAI error body.
/// - `malformed`: 200 with a body that is not JSON (a stream item that is not JSON when streaming).
/// - `stall`: streams one delta, then nothing (non-streaming: never answers).
/// - `slow-stream`: a delta every 50 ms until the client goes away.
/// - `embed`: embeddings of 3 dimensions, `[len, 1, 0]` per input, returned in reverse order
///   with explicit indexes.
///
/// Under `/api/` it speaks Ollama's native API instead (`/api/chat`, newline-delimited JSON
/// when streaming, and `/api/embed`): `echo`, `tools` and `embed` as above, `always-500`.
final class FakeOpenAIServer: Sendable {
    /// One request the server saw.
    struct Recorded: Sendable {
        var path: String
        var headers: [String: String]
        var body: [String: any Sendable]
        var model: String { body["model"] as? String ?? "" }
    }

    final class Log: Sendable {
        let requests = Mutex<[Recorded]>([])
        let closedConnections = Mutex(0)
        let served429 = Mutex(false)
    }

    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    let log: Log
    let port: Int

    private init(group: MultiThreadedEventLoopGroup, channel: any Channel, log: Log) {
        self.group = group
        self.channel = channel
        self.log = log
        self.port = channel.localAddress?.port ?? 0
    }

    static func start() async throws -> FakeOpenAIServer {
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
        return FakeOpenAIServer(group: group, channel: channel, log: log)
    }

    func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }

    /// The base URL a tenant configures: `http://127.0.0.1:PORT/v1`.
    var baseURL: String { "http://127.0.0.1:\(port)/v1" }
    var requests: [Recorded] { log.requests.withLock { $0 } }
    var closedConnections: Int { log.closedConnections.withLock { $0 } }

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
                let json = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
                let recorded = Recorded(
                    path: head.uri, headers: headers, body: json.mapValues { Self.sendable($0) })
                log.requests.withLock { $0.append(recorded) }
                route(recorded, json: json, context: context)
            }
        }

        private static func sendable(_ value: Any) -> any Sendable {
            switch value {
            case let string as String: string
            case let bool as Bool: bool
            case let number as NSNumber: number.doubleValue
            default: String(describing: value)
            }
        }

        private func route(_ request: Recorded, json: [String: Any], context: ChannelHandlerContext) {
            let model = request.model
            let stream = json["stream"] as? Bool ?? false
            let messages = json["messages"] as? [[String: Any]] ?? []
            let last = messages.last?["content"] as? String ?? ""
            if request.path.hasPrefix("/api/") {
                ollama(context, model: model, last: last, stream: stream, json: json)
                return
            }
            switch model {
            case "flaky-429":
                let first = log.served429.withLock { served in
                    defer { served = true }
                    return !served
                }
                if first {
                    respond(
                        context, status: .tooManyRequests, headers: [("retry-after", "1")],
                        body: #"{"error":{"message":"slow down","type":"rate_limit"}}"#)
                } else {
                    echo(context, last: last, stream: stream)
                }
            case "always-429":
                respond(
                    context, status: .tooManyRequests, headers: [("retry-after", "30")],
                    body: #"{"error":{"message":"quota","type":"rate_limit"}}"#)
            case "always-500":
                respond(context, status: .internalServerError, body: #"{"error":{"message":"boom"}}"#)
            case "always-503":
                respond(context, status: .serviceUnavailable, body: #"{"error":{"message":"overloaded"}}"#)
            case "bad-request":
                respond(
                    context, status: .badRequest,
                    body: #"{"error":{"message":"max_tokens is too large for this model","#
                        + #""type":"invalid_request_error"}}"#)
            case "malformed":
                if stream {
                    startStream(context)
                    send(context, "data: {this is not json\n\n")
                } else {
                    respond(context, status: .ok, body: "{\"choices\": [oops")
                }
            case "stall":
                if stream {
                    startStream(context)
                    send(context, "data: " + delta("partial") + "\n\n")
                }
            case "slow-stream":
                startStream(context)
                tick(context, count: 0)
            case "tools":
                toolCall(context, stream: stream)
            case "embed":
                let inputs = json["input"] as? [String] ?? []
                let data = inputs.enumerated().reversed().map { index, input in
                    #"{"object":"embedding","index":\#(index),"embedding":[\#(input.count),1,0]}"#
                }
                respond(
                    context, status: .ok,
                    body:
                        #"{"object":"list","data":[\#(data.joined(separator: ","))],"usage":{"prompt_tokens":"#
                        + #"5,"total_tokens":5}}"#
                )
            default:
                echo(context, last: last, stream: stream)
            }
        }

        private func ollama(
            _ context: ChannelHandlerContext, model: String, last: String, stream: Bool, json: [String: Any]
        ) {
            func line(_ object: [String: Any]) -> String {
                String(
                    decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self
                )
            }
            let final: [String: Any] = [
                "model": model, "done": true, "done_reason": "stop", "prompt_eval_count": 9, "eval_count": 4,
                "message": ["role": "assistant", "content": ""],
            ]
            switch model {
            case "always-500":
                respond(context, status: .internalServerError, body: #"{"error":"model crashed"}"#)
            case "embed":
                let inputs = json["input"] as? [String] ?? []
                respond(
                    context, status: .ok,
                    body: line(["embeddings": inputs.map { [$0.count, 2, 0] }, "prompt_eval_count": 3]))
            case "tools":
                let call: [String: Any] = ["function": ["name": "lookup", "arguments": ["q": "vpn"]]]
                var message = final
                message["message"] = ["role": "assistant", "content": "", "tool_calls": [call]]
                if stream {
                    startStream(context)
                    var first = message
                    first["done"] = false
                    send(context, line(first) + "\n")
                    send(context, line(final) + "\n")
                    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                } else {
                    respond(context, status: .ok, body: line(message))
                }
            default:
                if stream {
                    startStream(context)
                    for piece in ["echo", ": ", last] {
                        send(
                            context,
                            line(["model": model, "done": false, "message": ["role": "assistant", "content": piece]])
                                + "\n")
                    }
                    send(context, line(final) + "\n")
                    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                } else {
                    var message = final
                    message["message"] = ["role": "assistant", "content": "echo: \(last)"]
                    respond(context, status: .ok, body: line(message))
                }
            }
        }

        private func delta(_ text: String) -> String {
            let escaped = String(data: try! JSONSerialization.data(withJSONObject: [text]), encoding: .utf8)!
            return
                #"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":"#
                + #"{"content":\#(escaped.dropFirst().dropLast())}}]}"#
        }

        private func echo(_ context: ChannelHandlerContext, last: String, stream: Bool) {
            let answer = "echo: \(last)"
            if stream {
                startStream(context)
                send(context, "data: " + #"{"choices":[{"index":0,"delta":{"role":"assistant"}}]}"# + "\n\n")
                send(context, "data: " + delta("echo") + "\n\n")
                // One event split across two writes, to exercise the parser's buffering.
                let third = "data: " + delta(": \(last)") + "\r\n\r\n"
                let middle = third.index(third.startIndex, offsetBy: third.count / 2)
                send(context, String(third[..<middle]))
                send(context, String(third[middle...]))
                send(context, "data: " + #"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"# + "\n\n")
                send(context, "data: " + #"{"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":7}}"# + "\n\n")
                send(context, "data: [DONE]\n\n")
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            } else {
                let content = String(data: try! JSONSerialization.data(withJSONObject: [answer]), encoding: .utf8)!
                respond(
                    context, status: .ok,
                    body:
                        #"{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":"#
                        + #"{"role":"assistant","content":\#(content.dropFirst().dropLast())},"finish_reason":"#
                        + #""stop"}],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":"#
                        + #"18}}"#
                )
            }
        }

        private func toolCall(_ context: ChannelHandlerContext, stream: Bool) {
            if stream {
                startStream(context)
                send(
                    context,
                    "data: "
                        + #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","#
                        + #""type":"function","function":{"name":"lookup","arguments":"{\"q\":"}}]}}]}"#
                        + "\n\n")
                send(
                    context,
                    "data: "
                        + #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"#
                        + #""\"vpn\"}"}}]}}]}"#
                        + "\n\n")
                send(context, "data: " + #"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"# + "\n\n")
                send(context, "data: [DONE]\n\n")
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            } else {
                respond(
                    context, status: .ok,
                    body:
                        #"{"choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":"#
                        + #"[{"id":"call_1","type":"function","function":{"name":"lookup","arguments":"#
                        + #""{\"q\":\"vpn\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":"#
                        + #"20,"completion_tokens":5}}"#
                )
            }
        }

        private func tick(_ context: ChannelHandlerContext, count: Int) {
            guard active else { return }
            send(context, "data: " + delta("tick\(count) ") + "\n\n")
            context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(50)) {
                self.tick(context, count: count + 1)
            }
        }

        private func startStream(_ context: ChannelHandlerContext) {
            var head = HTTPResponseHead(version: .http1_1, status: .ok)
            head.headers.add(name: "content-type", value: "text/event-stream")
            head.headers.add(name: "transfer-encoding", value: "chunked")
            context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
        }

        private func send(_ context: ChannelHandlerContext, _ text: String) {
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
        }

        private func respond(
            _ context: ChannelHandlerContext, status: HTTPResponseStatus, headers: [(String, String)] = [],
            body: String
        ) {
            var head = HTTPResponseHead(version: .http1_1, status: status)
            head.headers.add(name: "content-type", value: "application/json")
            for (name, value) in headers { head.headers.add(name: name, value: value) }
            head.headers.add(name: "content-length", value: String(body.utf8.count))
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
