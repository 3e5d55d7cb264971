import Synchronization
import TestSupport

/// An endpoint for http tools: records every request and answers
/// `{"echo": <the request body as JSON>, "method": ...}`; the path `/fail` answers 503.
final class FakeHTTPEndpoint: Sendable {
    /// What the endpoint saw.
    struct Recorded: Sendable {
        var method: String
        var uri: String
        var headers: [String: String]
        var body: String
    }

    private let server: TestHTTPServer
    private let box: Box

    private init(server: TestHTTPServer, box: Box) {
        self.server = server
        self.box = box
    }

    /// The port listened on.
    var port: Int { server.port }

    static func start() async throws -> FakeHTTPEndpoint {
        let box = Box()
        let server = try await TestHTTPServer.start { request, responder in
            box.requests.withLock {
                $0.append(
                    Recorded(method: request.method, uri: request.uri, headers: request.headers, body: request.text))
            }
            let echo = request.body.isEmpty ? "null" : request.text
            responder.respond(
                status: request.uri.hasPrefix("/fail") ? 503 : 200, headers: [("content-type", "application/json")],
                body: #"{"method": "\#(request.method)", "echo": \#(echo)}"#)
        }
        return FakeHTTPEndpoint(server: server, box: box)
    }

    var requests: [Recorded] { box.requests.withLock { $0 } }

    func stop() async { await server.stop() }

    private final class Box: Sendable {
        let requests = Mutex<[Recorded]>([])
    }
}
