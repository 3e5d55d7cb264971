public import NIOCore

/// The head of a plain (non-gRPC) HTTP request that arrived on an HTTP/2 stream.
public struct HTTPStreamRequest: Sendable {
    /// `:method`, e.g. `GET`.
    public var method = ""
    /// `:path`: the request target, query included.
    public var path = ""
    /// `:scheme`, e.g. `https`.
    public var scheme = ""
    /// `:authority`, the host the client asked for.
    public var authority = ""
    /// The regular header fields, in order, names lower-case as HTTP/2 requires.
    public var headers: [(name: String, value: String)] = []
    /// The client's address, as the socket sees it.
    public var remoteAddress: SocketAddress?
}

/// Answers the plain HTTP requests of an HTTP/2 connection (see `HTTPRequestServer`).
public protocol HTTPStreamResponder: Sendable {
    /// Answers `request`: reads its body from `stream` (or not) and sends exactly one response
    /// on it. A stream left without a complete response is reset when this returns.
    func respond(to request: HTTPStreamRequest, stream: HTTPRequestStream) async
}

/// Why a plain HTTP/2 stream could not be read or written.
public enum HTTPStreamError: Error, Sendable {
    /// The client reset the stream or the connection went away.
    case closed
    /// The request's body did not arrive within the request timeout.
    case timedOut
    /// The connection holds more request bytes in buffers than it may.
    case overBudget
}

/// One plain HTTP request and its response on an HTTP/2 connection: the body on its way to the
/// responder (with flow-control credit given back as it is read) and the response on its way to
/// nghttp2 (with backpressure on the writer).
///
/// Its state is confined to the connection's event loop; the responder may call it from any
/// thread, and those calls hop to the loop when needed.
public final class HTTPRequestStream: @unchecked Sendable {
    let id: Int32
    let loop: any EventLoop
    /// Strong until `closed`, which runs for every stream (as for `ServerStream`).
    private var connection: ServerConnectionHandler?

    /// The request head, filled in while headers arrive.
    private(set) var request = HTTPStreamRequest()
    private var headerBytes = 0
    private let maximumHeaderListSize: Int
    var headComplete = false
    private var task: Task<Void, Never>?
    private var requestTimer: Scheduled<Void>?

    // Inbound.
    private var inbox = CircularBuffer<ByteBuffer>(initialCapacity: 2)
    private var inboundEnded = false
    private var unconsumed = 0
    private var bufferedBytes = 0
    private var inboundError: HTTPStreamError?
    private var reader: CheckedContinuation<ByteBuffer?, any Error>?

    // Outbound.
    private var outbound = OutboundBuffer()
    private var headSent = false
    private var ended = false
    private var deferred = false
    private var closed = false
    private var writer: CheckedContinuation<Void, any Error>?

    /// Above this many buffered response bytes a writer waits for the client to read.
    private static let highWater = 256 << 10
    private static let lowWater = 64 << 10

    init(id: Int32, loop: any EventLoop, connection: ServerConnectionHandler, maximumHeaderListSize: Int) {
        self.id = id
        self.loop = loop
        self.connection = connection
        self.maximumHeaderListSize = maximumHeaderListSize
    }

    /// Whether the whole response has been handed over.
    public var responseComplete: Bool { ended }

    // MARK: Request head

    /// Counts and keeps a header field; false once the header list passes its limit (the
    /// stream is then reset by nghttp2).
    func addHeader(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) -> Bool {
        headerBytes += name.count + value.count + 32
        guard headerBytes <= maximumHeaderListSize else { return false }
        guard !headComplete else { return true }  // trailers: not kept
        let text = String(decoding: value, as: UTF8.self)
        if name.first == UInt8(ascii: ":") {
            switch String(decoding: name, as: UTF8.self) {
            case ":method": request.method = text
            case ":path": request.path = text
            case ":scheme": request.scheme = text
            case ":authority": request.authority = text
            default: break
            }
        } else {
            request.headers.append((String(decoding: name, as: UTF8.self), text))
        }
        return true
    }

    /// Starts the responder in a task that prefers the loop as its executor; the body must end
    /// within `requestTimeout`.
    func dispatch(
        responder: any HTTPStreamResponder, executor: EventLoopTaskExecutor, requestTimeout: Duration?,
        remoteAddress: SocketAddress?
    ) {
        request.remoteAddress = remoteAddress
        if let requestTimeout, !inboundEnded {
            requestTimer = loop.scheduleTask(in: .nanoseconds(requestTimeout.nanoseconds)) { [self] in
                requestTimer = nil
                guard !inboundEnded, inboundError == nil else { return }
                failInbound(.timedOut)
            }
        }
        let request = request
        task = Task.immediate(executorPreference: executor) { [self] in
            await responder.respond(to: request, stream: self)
            if loop.inEventLoop { responderReturned() } else { loop.execute { self.responderReturned() } }
        }
    }

    /// A responder that returned without finishing its response leaves the stream reset.
    private func responderReturned() {
        task = nil
        guard !ended, !closed, let connection else { return }
        ended = true
        connection.resetStream(streamID: id, errorCode: NGHTTP2Session.ErrorCode.internalError)
        connection.scheduleFlush()
    }

    // MARK: Inbound

    func receiveData(_ bytes: UnsafeRawBufferPointer) {
        guard let connection else { return }
        guard inboundError == nil, !closed else {
            connection.consume(streamID: id, count: bytes.count)
            return
        }
        guard connection.chargeBuffered(bytes.count) else {
            connection.consume(streamID: id, count: bytes.count)
            failInbound(.overBudget)
            return
        }
        bufferedBytes += bytes.count
        unconsumed += bytes.count
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        inbox.append(buffer)
        wakeReader()
    }

    func receiveEnd() {
        inboundEnded = true
        requestTimer?.cancel()
        requestTimer = nil
        wakeReader()
    }

    private func failInbound(_ error: HTTPStreamError) {
        inboundError = error
        inbox.removeAll()
        releaseBuffered(all: true)
        if unconsumed > 0 {
            connection?.consume(streamID: id, count: unconsumed)
            unconsumed = 0
        }
        if let reader {
            self.reader = nil
            reader.resume(throwing: error)
        }
    }

    private func releaseBuffered(all: Bool = false) {
        var holding = 0
        if !all { for chunk in inbox { holding += chunk.readableBytes } }
        if holding < bufferedBytes {
            connection?.releaseBuffered(bufferedBytes - holding)
            bufferedBytes = holding
        }
    }

    /// Gives the client flow-control credit for what the responder has taken.
    private func credit() {
        guard inbox.isEmpty, unconsumed > 0, let connection else { return }
        connection.consume(streamID: id, count: unconsumed)
        unconsumed = 0
        connection.scheduleFlush()
    }

    private func wakeReader() {
        guard let reader else { return }
        if let chunk = inbox.popFirst() {
            self.reader = nil
            releaseBuffered()
            credit()
            reader.resume(returning: chunk)
        } else if inboundEnded {
            self.reader = nil
            reader.resume(returning: nil)
        }
    }

    /// The next chunk if it is here (`.some`), the end (`.some(nil)`), or nil to wait.
    private func takeNow() throws(HTTPStreamError) -> ByteBuffer?? {
        if let inboundError { throw inboundError }
        if let chunk = inbox.popFirst() {
            releaseBuffered()
            credit()
            return .some(chunk)
        }
        if inboundEnded { return .some(nil) }
        if closed { throw .closed }
        return nil
    }

    /// The next piece of the request's body; nil at its end. Throws `HTTPStreamError` when the
    /// stream is reset, the body is late, or the connection's buffers are full.
    public func nextBodyChunk() async throws -> ByteBuffer? {
        if loop.inEventLoop, let ready = try takeNow() { return ready }
        return try await withCheckedThrowingContinuation { continuation in
            if loop.inEventLoop {
                awaitChunk(continuation)
            } else {
                loop.execute { self.awaitChunk(continuation) }
            }
        }
    }

    private func awaitChunk(_ continuation: CheckedContinuation<ByteBuffer?, any Error>) {
        do {
            if let ready = try takeNow() {
                continuation.resume(returning: ready)
            } else {
                reader = continuation
            }
        } catch {
            continuation.resume(throwing: error)
        }
    }

    // MARK: Outbound

    /// Sends the response head: `status` and `headers` (names lower-case; connection-specific
    /// fields, which HTTP/2 forbids, are left out). With `endStream` the response has no body.
    public func sendHead(status: Int, headers: [(name: String, value: String)], endStream: Bool) async throws {
        try await onLoop { try self.submitHead(status: status, headers: headers, endStream: endStream) }
    }

    /// Sends a piece of the response's body; `endStream` ends the response. Waits while more
    /// than a few hundred KiB are queued for a slow client.
    public func sendData(_ bytes: ByteBuffer, endStream: Bool) async throws {
        if loop.inEventLoop {
            try enqueue(bytes, endStream: endStream)
            if outbound.count <= Self.highWater { return }
            try await withCheckedThrowingContinuation { continuation in awaitDrain(continuation) }
            return
        }
        try await withCheckedThrowingContinuation { continuation in
            loop.execute {
                do {
                    try self.enqueue(bytes, endStream: endStream)
                    self.awaitDrain(continuation)
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Sends a head and a whole body in one go.
    public func sendResponse(status: Int, headers: [(name: String, value: String)], body: ByteBuffer) async throws {
        try await onLoop {
            try self.submitHead(status: status, headers: headers, endStream: body.readableBytes == 0)
            if body.readableBytes > 0 { try self.enqueue(body, endStream: true) }
        }
    }

    private func onLoop(_ body: @escaping @Sendable () throws -> Void) async throws {
        if loop.inEventLoop { return try body() }
        try await loop.submit(body).get()
    }

    private static let connectionSpecific: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
    ]

    private func submitHead(status: Int, headers: [(name: String, value: String)], endStream: Bool) throws {
        guard !headSent, !closed, let connection else { throw HTTPStreamError.closed }
        headSent = true
        var list = HeaderList()
        list.add(":status", String(status))
        for (name, value) in headers {
            let name = name.lowercased()
            if Self.connectionSpecific.contains(name) { continue }
            list.add(name, value)
        }
        if endStream { ended = true }
        connection.submitResponse(streamID: id, headers: list, hasBody: !endStream)
        connection.scheduleFlush()
    }

    private func enqueue(_ bytes: ByteBuffer, endStream: Bool) throws {
        guard headSent, !ended, !closed, let connection else { throw HTTPStreamError.closed }
        bytes.withUnsafeReadableBytes { outbound.appendRaw($0) }
        if endStream { ended = true }
        if deferred {
            deferred = false
            connection.resumeData(streamID: id)
        }
        connection.scheduleFlush()
    }

    private func awaitDrain(_ continuation: CheckedContinuation<Void, any Error>) {
        if closed {
            continuation.resume(throwing: HTTPStreamError.closed)
        } else if outbound.count <= Self.highWater {
            continuation.resume()
        } else {
            writer = continuation
        }
    }

    /// Called by nghttp2 (through the connection) for DATA payload.
    func readData(into buffer: UnsafeMutableRawBufferPointer) -> NGHTTP2Session.DataRead {
        let count = outbound.take(into: buffer)
        if let writer, outbound.count <= Self.lowWater {
            self.writer = nil
            writer.resume()
        }
        if outbound.isEmpty, ended { return .end(count: count, endStream: true) }
        if count > 0 { return .data(count: count) }
        deferred = true
        return .deferred
    }

    /// Our response is complete on the wire: a client still sending is told to stop.
    func sentEndOfStream() {
        guard !inboundEnded, let connection else { return }
        connection.resetStream(streamID: id, errorCode: NGHTTP2Session.ErrorCode.noError)
    }

    /// nghttp2 closed the stream: a client reset, or the normal end.
    func closed(errorCode: UInt32) {
        defer { connection = nil }
        closed = true
        requestTimer?.cancel()
        requestTimer = nil
        if !ended { task?.cancel() }
        inbox.removeAll()
        releaseBuffered(all: true)
        if unconsumed > 0 {
            connection?.consumeConnection(count: unconsumed)
            unconsumed = 0
        }
        if let reader {
            self.reader = nil
            reader.resume(throwing: inboundError ?? .closed)
        }
        if let writer {
            self.writer = nil
            writer.resume(throwing: HTTPStreamError.closed)
        }
    }
}
