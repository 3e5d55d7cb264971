import Foundation
import Synchronization
import TestSupport

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
/// - `huge-retry-after`: 429 with `Retry-After: 1e300` and `retry-after-ms: 9223372036854775807`.
/// - `huge-usage`: an answer reporting 1e30 prompt and 9223372036854775807 completion tokens
///   (streamed too), and a tool call at index 1e300.
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
        let served429 = Mutex(false)
    }

    private let server: TestHTTPServer
    let log: Log
    var port: Int { server.port }

    private init(server: TestHTTPServer, log: Log) {
        self.server = server
        self.log = log
    }

    static func start() async throws -> FakeOpenAIServer {
        let log = Log()
        let server = try await TestHTTPServer.start { request, responder in
            let json = request.jsonObject
            let recorded = Recorded(
                path: request.uri, headers: request.headers, body: json.mapValues { Handler.sendable($0) })
            log.requests.withLock { $0.append(recorded) }
            Handler(log: log, responder: responder).route(recorded, json: json)
        }
        return FakeOpenAIServer(server: server, log: log)
    }

    func stop() async { await server.stop() }

    /// The base URL a tenant configures: `http://127.0.0.1:PORT/v1`.
    var baseURL: String { server.url("/v1") }
    var requests: [Recorded] { log.requests.withLock { $0 } }
    var closedConnections: Int { server.closedConnections }

    /// Answers one request as the model it names says.
    private struct Handler {
        let log: Log
        let responder: TestHTTPResponder

        static func sendable(_ value: Any) -> any Sendable {
            switch value {
            case let string as String: string
            case let bool as Bool: bool
            case let number as NSNumber: number.doubleValue
            default: String(describing: value)
            }
        }

        func route(_ request: Recorded, json: [String: Any]) {
            let model = request.model
            let stream = json["stream"] as? Bool ?? false
            let messages = json["messages"] as? [[String: Any]] ?? []
            let last = messages.last?["content"] as? String ?? ""
            if request.path.hasPrefix("/api/") {
                ollama(model: model, last: last, stream: stream, json: json)
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
                        status: 429, headers: [("retry-after", "1")],
                        body: #"{"error":{"message":"slow down","type":"rate_limit"}}"#)
                } else {
                    echo(last: last, stream: stream)
                }
            case "always-429":
                respond(
                    status: 429, headers: [("retry-after", "30")],
                    body: #"{"error":{"message":"quota","type":"rate_limit"}}"#)
            case "huge-retry-after":
                respond(
                    status: 429, headers: [("retry-after", "1e300"), ("retry-after-ms", "9223372036854775807")],
                    body: #"{"error":{"message":"come back much later","type":"rate_limit"}}"#)
            case "huge-usage":
                let usage = #"{"prompt_tokens":1e30,"completion_tokens":9223372036854775807}"#
                if stream {
                    startStream()
                    send(
                        "data: "
                            + #"{"choices":[{"index":0,"delta":{"content":"big","tool_calls":[{"index":1e300,"#
                            + #""id":"c","function":{"name":"lookup","arguments":"{}"}}]}}]}"# + "\n\n")
                    send("data: " + #"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"# + "\n\n")
                    send("data: " + #"{"choices":[],"usage":\#(usage)}"# + "\n\n")
                    send("data: [DONE]\n\n")
                    responder.end()
                } else {
                    respond(
                        status: 200,
                        body: #"{"choices":[{"index":0,"message":{"role":"assistant","content":"big"},"#
                            + #""finish_reason":"stop"}],"usage":\#(usage)}"#)
                }
            case "always-500":
                respond(status: 500, body: #"{"error":{"message":"boom"}}"#)
            case "always-503":
                respond(status: 503, body: #"{"error":{"message":"overloaded"}}"#)
            case "bad-request":
                respond(
                    status: 400,
                    body: #"{"error":{"message":"max_tokens is too large for this model","#
                        + #""type":"invalid_request_error"}}"#)
            case "malformed":
                if stream {
                    startStream()
                    send("data: {this is not json\n\n")
                } else {
                    respond(status: 200, body: "{\"choices\": [oops")
                }
            case "stall":
                if stream {
                    startStream()
                    send("data: " + delta("partial") + "\n\n")
                }
            case "slow-stream":
                startStream()
                tick(count: 0)
            case "tools":
                toolCall(stream: stream)
            case "embed":
                let inputs = json["input"] as? [String] ?? []
                let data = inputs.enumerated().reversed().map { index, input in
                    #"{"object":"embedding","index":\#(index),"embedding":[\#(input.count),1,0]}"#
                }
                respond(
                    status: 200,
                    body:
                        #"{"object":"list","data":[\#(data.joined(separator: ","))],"usage":{"prompt_tokens":"#
                        + #"5,"total_tokens":5}}"#
                )
            default:
                echo(last: last, stream: stream)
            }
        }

        private func ollama(
            model: String, last: String, stream: Bool, json: [String: Any]
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
                respond(status: 500, body: #"{"error":"model crashed"}"#)
            case "embed":
                let inputs = json["input"] as? [String] ?? []
                respond(
                    status: 200,
                    body: line(["embeddings": inputs.map { [$0.count, 2, 0] }, "prompt_eval_count": 3]))
            case "tools":
                let call: [String: Any] = ["function": ["name": "lookup", "arguments": ["q": "vpn"]]]
                var message = final
                message["message"] = ["role": "assistant", "content": "", "tool_calls": [call]]
                if stream {
                    startStream()
                    var first = message
                    first["done"] = false
                    send(line(first) + "\n")
                    send(line(final) + "\n")
                    responder.end()
                } else {
                    respond(status: 200, body: line(message))
                }
            default:
                if stream {
                    startStream()
                    for piece in ["echo", ": ", last] {
                        send(
                            line(["model": model, "done": false, "message": ["role": "assistant", "content": piece]])
                                + "\n")
                    }
                    send(line(final) + "\n")
                    responder.end()
                } else {
                    var message = final
                    message["message"] = ["role": "assistant", "content": "echo: \(last)"]
                    respond(status: 200, body: line(message))
                }
            }
        }

        private func delta(_ text: String) -> String {
            let escaped = String(data: try! JSONSerialization.data(withJSONObject: [text]), encoding: .utf8)!
            return
                #"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":"#
                + #"{"content":\#(escaped.dropFirst().dropLast())}}]}"#
        }

        private func echo(last: String, stream: Bool) {
            let answer = "echo: \(last)"
            if stream {
                startStream()
                send("data: " + #"{"choices":[{"index":0,"delta":{"role":"assistant"}}]}"# + "\n\n")
                send("data: " + delta("echo") + "\n\n")
                // One event split across two writes, to exercise the parser's buffering.
                let third = "data: " + delta(": \(last)") + "\r\n\r\n"
                let middle = third.index(third.startIndex, offsetBy: third.count / 2)
                send(String(third[..<middle]))
                send(String(third[middle...]))
                send("data: " + #"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"# + "\n\n")
                send("data: " + #"{"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":7}}"# + "\n\n")
                send("data: [DONE]\n\n")
                responder.end()
            } else {
                let content = String(data: try! JSONSerialization.data(withJSONObject: [answer]), encoding: .utf8)!
                respond(
                    status: 200,
                    body:
                        #"{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":"#
                        + #"{"role":"assistant","content":\#(content.dropFirst().dropLast())},"finish_reason":"#
                        + #""stop"}],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":"#
                        + #"18}}"#
                )
            }
        }

        private func toolCall(stream: Bool) {
            if stream {
                startStream()
                send(
                    "data: "
                        + #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","#
                        + #""type":"function","function":{"name":"lookup","arguments":"{\"q\":"}}]}}]}"#
                        + "\n\n")
                send(
                    "data: "
                        + #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"#
                        + #""\"vpn\"}"}}]}}]}"#
                        + "\n\n")
                send("data: " + #"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"# + "\n\n")
                send("data: [DONE]\n\n")
                responder.end()
            } else {
                respond(
                    status: 200,
                    body:
                        #"{"choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":"#
                        + #"[{"id":"call_1","type":"function","function":{"name":"lookup","arguments":"#
                        + #""{\"q\":\"vpn\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":"#
                        + #"20,"completion_tokens":5}}"#
                )
            }
        }

        private func tick(count: Int) {
            guard responder.isConnected else { return }
            send("data: " + delta("tick\(count) ") + "\n\n")
            responder.after(.milliseconds(50)) { self.tick(count: count + 1) }
        }

        private func startStream() {
            responder.startStream(headers: [("content-type", "text/event-stream")])
        }

        private func send(_ text: String) { responder.send(text) }

        private func respond(status: Int, headers: [(String, String)] = [], body: String) {
            responder.respond(status: status, headers: [("content-type", "application/json")] + headers, body: body)
        }
    }
}
