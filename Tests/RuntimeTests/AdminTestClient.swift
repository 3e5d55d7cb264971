import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 client for the admin server tests: sends requests one after another on
/// one connection and reads each response whole.
struct AdminTestClient {
    struct Response {
        var status: Int
        var headers: HTTPHeaders
        var body: String
    }

    struct Request {
        var method: HTTPMethod = .GET
        var path: String
        var version: HTTPVersion = .http1_1
        var headers: [(String, String)] = []
    }

    /// What came back, and whether the server closed the connection after the last response.
    struct Exchange {
        var responses: [Response]
        var closedByServer: Bool
    }

    let port: Int

    /// One GET on a fresh connection.
    func get(_ path: String) async throws -> Response {
        let exchange = try await send([Request(path: path)])
        guard let response = exchange.responses.first else { throw ClientError.noResponse }
        return response
    }

    /// Sends the requests in order on one connection, each after the previous response.
    func send(_ requests: [Request]) async throws -> Exchange {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        let connection = channel.channel
        return try await channel.executeThenClose { inbound, outbound in
            var parts = inbound.makeAsyncIterator()
            var responses: [Response] = []
            for request in requests {
                var headers = HTTPHeaders([("host", "127.0.0.1"), ("content-length", "0")])
                headers.add(contentsOf: request.headers)
                // Head and end in one write: a server may answer (and close) as soon as it has
                // the head of a request without a body.
                let head = HTTPRequestHead(
                    version: request.version, method: request.method, uri: request.path, headers: headers)
                try await outbound.write(contentsOf: [.head(head), .end(nil)])
                var response: Response?
                reading: while let part = try await parts.next() {
                    switch part {
                    case .head(let head):
                        response = Response(status: Int(head.status.code), headers: head.headers, body: "")
                    case .body(let buffer):
                        response?.body += String(buffer: buffer)
                    case .end:
                        break reading
                    }
                }
                guard let response else { throw ClientError.noResponse }
                responses.append(response)
            }
            // A server that closes does so right after the response; give it a moment.
            try await Task.sleep(for: .milliseconds(200))
            return Exchange(responses: responses, closedByServer: !connection.isActive)
        }
    }

    enum ClientError: Error {
        case noResponse
    }
}
