import NIOCore
import NIOHTTP1
import RPCHTTP2
import RuntimeHTTP

/// The edge's requests over HTTP/2 (TLS with ALPN `h2`): each stream of RPCHTTP2's plain HTTP
/// server becomes an `EdgeRequest`, answered by the same handler as HTTP/1.1.
struct EdgeHTTP2Responder: HTTPStreamResponder {
    let handler: any EdgeRequestHandling
    let limits: EdgeLimits
    let trustedProxies: Set<IPAddress>

    func respond(to request: HTTPStreamRequest, stream: HTTPRequestStream) async {
        var headers = HTTPHeaders(request.headers.map { ($0.name, $0.value) })
        // HTTP/2 carries the host as :authority; the routes read it as HTTP/1.1's Host.
        if !request.authority.isEmpty, !headers.contains(name: "host") {
            headers.add(name: "host", value: request.authority)
        }
        let head = HTTPRequestHead(
            version: .http2, method: HTTPMethod(rawValue: request.method), uri: request.path, headers: headers)
        let response = HTTPResponseWriter(
            sink: HTTP2ResponseSink(stream: stream), keepAlive: true, commonHeaders: EdgeHTTPServer.commonHeaders)
        if request.path.utf8.count > limits.maximumHeaderBytes {
            try? await response.respond(
                error: EdgeError(
                    status: .uriTooLong, code: "INVALID_ARGUMENT",
                    message: "the request target is longer than \(limits.maximumHeaderBytes) bytes"))
            return
        }
        let address = ForwardedFor.clientAddress(
            direct: request.remoteAddress?.ipAddress ?? "unknown",
            headerValues: headers[canonicalForm: "x-forwarded-for"].map(String.init), trustedProxies: trustedProxies)
        await handler.handle(
            EdgeRequest(head: head, clientAddress: address, isTLS: true), body: RequestBody(source: stream),
            response: response)
    }
}

extension HTTPRequestStream: RequestBodySource {
    func nextChunk() async throws -> ByteBuffer? {
        do {
            return try await nextBodyChunk()
        } catch HTTPStreamError.timedOut {
            throw EdgeError(
                status: .requestTimeout, code: "DEADLINE_EXCEEDED",
                message: "the request's body did not arrive in time (EDGE_REQUEST_TIMEOUT)")
        } catch HTTPStreamError.overBudget {
            throw EdgeError(
                status: .payloadTooLarge, code: "RESOURCE_EXHAUSTED",
                message: "the connection holds more request bytes than allowed")
        } catch {
            throw EdgeError.badRequest("the stream ended before the request's body did")
        }
    }
}

/// A response on an HTTP/2 stream.
struct HTTP2ResponseSink: ResponseSink {
    let stream: HTTPRequestStream

    func send(head: HTTPResponseHead, body: ByteBuffer?, end: Bool) async throws {
        let fields = head.headers.map { (name: $0.name.lowercased(), value: $0.value) }
        if end, let body, body.readableBytes > 0 {
            try await stream.sendResponse(status: Int(head.status.code), headers: fields, body: body)
        } else {
            try await stream.sendHead(status: Int(head.status.code), headers: fields, endStream: end)
        }
    }

    func send(body: ByteBuffer) async throws {
        try await stream.sendData(body, endStream: false)
    }

    func end() async throws {
        try await stream.sendData(ByteBuffer(), endStream: true)
    }
}
