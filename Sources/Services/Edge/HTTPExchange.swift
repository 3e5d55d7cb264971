public import NIOCore
public import NIOHTTP1
import Synchronization

/// A connection's incoming request parts, read by one task: the connection's loop takes each
/// request's head, the route that handles it reads its body. (`@unchecked Sendable`: one task
/// at a time reads it — the connection's, or a call it awaits.)
final class InboundParts: @unchecked Sendable {
    private var iterator: NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator

    init(_ inbound: NIOAsyncChannelInboundStream<HTTPServerRequestPart>) {
        iterator = inbound.makeAsyncIterator()
    }

    /// The next part; nil when the connection has ended.
    func next() async throws -> HTTPServerRequestPart? {
        try await iterator.next()
    }
}

/// Where a request's body comes from: an HTTP/1.1 connection's parts or an HTTP/2 stream.
protocol RequestBodySource: AnyObject, Sendable {
    /// The next piece of the body; nil at its end. Throws when the body cannot be had.
    func nextChunk() async throws -> ByteBuffer?
}

extension InboundParts: RequestBodySource {
    func nextChunk() async throws -> ByteBuffer? {
        guard let part = try await next() else {
            throw EdgeError.badRequest("the connection ended before the request's body did")
        }
        switch part {
        case .body(let buffer): return buffer
        case .end: return nil
        case .head: throw EdgeError.badRequest("a request began inside another one's body")
        }
    }
}

/// A request's body as it arrives, read by the route that handles it: collected whole (JSON) or
/// chunk by chunk (an upload). (`@unchecked Sendable`: one task at a time reads it — the
/// request's, or an upload call it awaits.)
public final class RequestBody: @unchecked Sendable {
    private let source: any RequestBodySource
    /// Whether the request's end has been read.
    public private(set) var isFinished = false
    /// Bytes read so far.
    public private(set) var bytesRead = 0

    init(source: any RequestBodySource) {
        self.source = source
    }

    /// The next piece of the body; nil at its end. Throws when the connection ends first.
    public func next() async throws -> ByteBuffer? {
        guard !isFinished else { return nil }
        guard let buffer = try await source.nextChunk() else {
            isFinished = true
            return nil
        }
        bytesRead += buffer.readableBytes
        return buffer
    }

    /// The whole body, refused with 413 past `limit` bytes.
    public func collect(limit: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let buffer = try await next() {
            guard bytes.count <= limit - buffer.readableBytes else {
                throw EdgeError(
                    status: .payloadTooLarge, code: "RESOURCE_EXHAUSTED",
                    message: "the request body is larger than \(limit) bytes")
            }
            bytes += buffer.readableBytesView
        }
        return bytes
    }

    /// Reads and drops the rest of the body, up to `limit` bytes; false past it.
    public func discard(limit: Int) async throws -> Bool {
        while let buffer = try await next() {
            if bytesRead > limit || buffer.readableBytes > limit { return false }
        }
        return true
    }
}

/// Where a response goes: an HTTP/1.1 connection or an HTTP/2 stream.
protocol ResponseSink: Sendable {
    /// Sends the head, with the whole body when `end` (or with none).
    func send(head: HTTPResponseHead, body: ByteBuffer?, end: Bool) async throws
    /// Sends one piece of the body.
    func send(body: ByteBuffer) async throws
    /// Ends the response.
    func end() async throws
}

/// A response on an HTTP/1.1 connection, through its async channel's writer.
struct HTTP1ResponseSink: ResponseSink {
    let outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>

    func send(head: HTTPResponseHead, body: ByteBuffer?, end: Bool) async throws {
        guard end else { return try await outbound.write(.head(head)) }
        // Head, body and end in one write: one flush, one syscall.
        var parts: [HTTPServerResponsePart] = [.head(head)]
        if let body, body.readableBytes > 0 { parts.append(.body(.byteBuffer(body))) }
        parts.append(.end(nil))
        try await outbound.write(contentsOf: parts)
    }

    func send(body: ByteBuffer) async throws {
        try await outbound.write(.body(.byteBuffer(body)))
    }

    func end() async throws {
        try await outbound.write(.end(nil))
    }
}

/// Writes one response: whole, or as a stream of chunks (Server-Sent Events, a download).
/// (`@unchecked Sendable`: one task at a time writes — the request's, or a call it awaits.)
public final class HTTPResponseWriter: @unchecked Sendable {
    private let sink: any ResponseSink
    private let keepAlive: Bool
    /// Headers every response carries (security headers, CORS).
    private var commonHeaders: HTTPHeaders
    /// Whether the head has been written.
    public private(set) var started = false
    /// Whether the end has been written.
    public private(set) var finished = false
    /// The status sent, for the access log.
    public private(set) var status: HTTPResponseStatus = .ok
    /// What served the request, for metrics: a route's template (`GET /v1/agents/{agent_id}`),
    /// `grpc-web <method>`, `openapi`, `static` or `unmatched`.
    public var label = "unmatched"
    /// Set once the head is out (read by the heartbeat beside the writing task).
    private let headSent = Atomic<Bool>(false)
    /// When a body chunk was last written.
    private let lastWrite = Mutex<ContinuousClock.Instant>(.now)

    init(sink: any ResponseSink, keepAlive: Bool, commonHeaders: HTTPHeaders) {
        self.sink = sink
        self.keepAlive = keepAlive
        self.commonHeaders = commonHeaders
    }

    /// Adds a header to whatever response this request gets (an error's too).
    public func addCommonHeader(name: String, value: String) {
        commonHeaders.replaceOrAdd(name: name, value: value)
    }

    /// Lets `origin` (one of `EDGE_CORS_ORIGINS`) read the response, with credentials.
    public func addCORS(origin: String) {
        commonHeaders.replaceOrAdd(name: "access-control-allow-origin", value: origin)
        commonHeaders.replaceOrAdd(name: "access-control-allow-credentials", value: "true")
        commonHeaders.add(name: "vary", value: "origin")
    }

    /// Sends a whole response.
    public func respond(status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: [UInt8]) async throws {
        var all = headers
        all.replaceOrAdd(name: "content-length", value: String(body.count))
        let head = makeHead(status: status, headers: all)
        finished = true
        try await sink.send(head: head, body: body.isEmpty ? nil : ByteBuffer(bytes: body), end: true)
        headSent.store(true, ordering: .releasing)
    }

    /// Sends a JSON body with status 200 (or `status`).
    public func respondJSON(_ body: [UInt8], status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:]) async throws
    {
        var all = headers
        all.replaceOrAdd(name: "content-type", value: "application/json")
        all.replaceOrAdd(name: "cache-control", value: "no-store")
        try await respond(status: status, headers: all, body: body)
    }

    /// Sends an error as JSON.
    public func respond(error: EdgeError) async throws {
        var headers = HTTPHeaders()
        if let retry = error.retryAfterSeconds { headers.add(name: "retry-after", value: String(retry)) }
        try await respondJSON(error.jsonBody(), status: error.status, headers: headers)
    }

    /// Sends the head of a streamed response (chunked).
    public func start(status: HTTPResponseStatus, headers: HTTPHeaders) async throws {
        defer { headSent.store(true, ordering: .releasing) }
        try await sink.send(head: makeHead(status: status, headers: headers), body: nil, end: false)
    }

    /// The response's head: the common headers, then `headers`; marks the response started.
    private func makeHead(status: HTTPResponseStatus, headers: HTTPHeaders) -> HTTPResponseHead {
        precondition(!started, "a response's head was written twice")
        started = true
        self.status = status
        var all = commonHeaders
        all.add(contentsOf: headers)
        if !keepAlive { all.replaceOrAdd(name: "connection", value: "close") }
        return HTTPResponseHead(version: .http1_1, status: status, headers: all)
    }

    /// Sends one chunk of a streamed response.
    public func write(_ bytes: [UInt8]) async throws {
        lastWrite.withLock { $0 = .now }
        try await sink.send(body: ByteBuffer(bytes: bytes))
    }

    /// Sends `bytes` (an event stream's comment line) when the head is out and nothing was
    /// written for `quietFor`; safe beside the task writing the events.
    public func heartbeat(_ bytes: [UInt8], quietFor: Duration) async throws {
        guard headSent.load(ordering: .acquiring), lastWrite.withLock({ ContinuousClock.now - $0 >= quietFor }) else {
            return
        }
        try await sink.send(body: ByteBuffer(bytes: bytes))
    }

    /// Sends one chunk of a streamed response.
    public func write(_ buffer: ByteBuffer) async throws {
        try await sink.send(body: buffer)
    }

    /// Ends the response.
    public func end() async throws {
        guard !finished else { return }
        finished = true
        try await sink.end()
    }
}

/// A request as the routes see it: its head, where it came from, and its body.
public struct EdgeRequest: Sendable {
    /// The method, e.g. `GET`.
    public let method: HTTPMethod
    /// The path, without the query, still percent-encoded.
    public let path: Substring
    /// The query string after `?`, still encoded; empty when none.
    public let query: Substring
    /// The headers.
    public let headers: HTTPHeaders
    /// The client's IP address, as text.
    public let clientAddress: String
    /// Whether it came over TLS.
    public let isTLS: Bool

    /// Splits the head's target.
    init(head: HTTPRequestHead, clientAddress: String, isTLS: Bool = false) {
        self.isTLS = isTLS
        method = head.method
        let target = Substring(head.uri)
        if let mark = target.firstIndex(of: "?") {
            path = target[..<mark]
            query = target[target.index(after: mark)...]
        } else {
            path = target
            query = ""
        }
        headers = head.headers
        self.clientAddress = clientAddress
    }
}
