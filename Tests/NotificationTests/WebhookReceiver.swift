import Foundation
import Synchronization
import TestSupport

/// A fake webhook receiver (Slack, Teams or a generic endpoint) on 127.0.0.1: it records every
/// request and answers as its script says — 200, 500, 429 with Retry-After, slowly — and
/// tracks how many requests (for one delivery, and in all) are in flight at once.
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
        var concurrent = 0
        var maximumConcurrent = 0
    }

    private let server: TestHTTPServer
    private let state: Mutex<State>
    /// The port listened on.
    var port: Int { server.port }

    private init(server: TestHTTPServer, script: @escaping Script) {
        self.server = server
        self.state = Mutex(State(script: script))
    }

    /// Starts a receiver answering with `script`.
    static func start(_ script: @escaping Script = { _ in Answer(status: 200, body: "ok") }) async throws
        -> WebhookReceiver
    {
        let box = StateBox()
        let server = try await TestHTTPServer.start { received, responder in
            box.receiver.withLock { $0 }?.answer(received, responder)
        }
        let receiver = WebhookReceiver(server: server, script: script)
        box.receiver.withLock { $0 = receiver }
        return receiver
    }

    /// Replaces the script.
    func answer(with script: @escaping Script) {
        state.withLock { $0.script = script }
    }

    func stop() async { await server.stop() }

    /// `http://127.0.0.1:PORT` + path.
    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Every request so far.
    var requests: [Request] { state.withLock { $0.requests } }

    /// The requests of one delivery.
    func requests(for deliveryID: String) -> [Request] { requests.filter { $0.idempotencyKey == deliveryID } }

    /// The most requests for one delivery that were in flight at the same time.
    var maximumInFlight: Int { state.withLock { $0.maximumInFlight } }

    /// The most requests (of any delivery) that were in flight at the same time.
    var maximumConcurrent: Int { state.withLock { $0.maximumConcurrent } }

    /// Requests received and not answered yet.
    var concurrent: Int { state.withLock { $0.concurrent } }

    private func answer(_ received: TestHTTPRequest, _ responder: TestHTTPResponder) {
        let key = received.headers["idempotency-key"] ?? ""
        let answer = state.withLock { state in
            let previous = state.requests.filter { $0.idempotencyKey == key }.count
            state.inFlight[key, default: 0] += 1
            state.maximumInFlight = max(state.maximumInFlight, state.inFlight[key]!)
            state.concurrent += 1
            state.maximumConcurrent = max(state.maximumConcurrent, state.concurrent)
            return state.script(previous)
        }
        let request = Request(
            method: received.method, uri: received.uri, headers: received.headers, body: received.body,
            receivedAt: Date(), answeredStatus: answer.status)
        let respond = {
            self.state.withLock { state in
                state.inFlight[key, default: 1] -= 1
                state.concurrent -= 1
                state.requests.append(request)
            }
            responder.respond(status: answer.status, headers: answer.headers, body: answer.body)
        }
        if answer.delay > .zero { responder.after(answer.delay, respond) } else { respond() }
    }

    private final class StateBox: Sendable {
        let receiver = Mutex<WebhookReceiver?>(nil)
    }
}
