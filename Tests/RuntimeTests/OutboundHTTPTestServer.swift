import Foundation
import Synchronization
import TestSupport

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

    private let server: TestHTTPServer
    private let box: Box
    /// The port listened on.
    var port: Int { server.port }

    private init(server: TestHTTPServer, box: Box) {
        self.server = server
        self.box = box
    }

    static func start() async throws -> OutboundTestServer {
        let box = Box()
        let server = try await TestHTTPServer.start { request, responder in
            box.requests.withLock {
                $0.append(Recorded(method: request.method, uri: request.uri, headers: request.headers))
            }
            route(request, responder)
        }
        return OutboundTestServer(server: server, box: box)
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

    func stop() async { await server.stop() }

    /// `http://127.0.0.1:PORT` + path.
    func url(_ path: String, host: String = "127.0.0.1") -> URL {
        URL(string: server.url(path, host: host))!
    }

    var requests: [Recorded] { box.requests.withLock { $0 } }
    var closedConnections: Int { server.closedConnections }
    var openedConnections: Int { server.openedConnections }

    private final class Box: Sendable {
        let requests = Mutex<[Recorded]>([])
    }

    private static func route(_ request: TestHTTPRequest, _ responder: TestHTTPResponder) {
        let query = request.query
        switch request.path {
        case "/ok":
            responder.respond(status: 200, body: "hello")
        case "/echo":
            responder.respond(status: 200, body: Array("\(request.method) ".utf8) + request.body)
        case "/redirect":
            responder.respond(
                status: Int(query["status"] ?? "302") ?? 302, headers: [("location", query["to"] ?? "/ok")])
        case let chain where chain.hasPrefix("/chain/"):
            let remaining = Int(chain.dropFirst("/chain/".count)) ?? 0
            if remaining > 0 {
                responder.respond(status: 302, headers: [("location", "/chain/\(remaining - 1)")])
            } else {
                responder.respond(status: 200, body: "end")
            }
        case "/big":
            let size = Int(query["n"] ?? "0") ?? 0
            if query["chunked"] == "1" {
                responder.startStream(headers: [])
                var sent = 0
                while sent < size {
                    let piece = min(16 * 1024, size - sent)
                    responder.send([UInt8](repeating: UInt8(ascii: "x"), count: piece))
                    sent += piece
                }
                responder.end()
            } else {
                responder.respond(status: 200, body: [UInt8](repeating: UInt8(ascii: "x"), count: size))
            }
        case "/hang":
            break
        case "/stall":
            responder.startBody(contentLength: 1000)
            responder.send("partial")
        case "/sse":
            responder.startStream(headers: [("content-type", "text/event-stream")])
            tick(responder, count: 0)
        default:
            responder.respond(status: 404, body: "not found")
        }
    }

    private static func tick(_ responder: TestHTTPResponder, count: Int) {
        guard responder.isConnected else { return }
        responder.send("data: \(count)\n\n")
        responder.after(.milliseconds(20)) { tick(responder, count: count + 1) }
    }
}
