import NIOCore
import RPCCore
import Saturating

/// One call on a server connection: the request head, the request messages on their way to
/// the handler, and the response on its way to nghttp2.
///
/// Its state is confined to the connection's event loop. The handler's task may call
/// `nextMessage` and `writeMessage` from any thread; those hop to the loop when needed.
final class ServerStream: RequestSource, ResponseSink, @unchecked Sendable {
    let id: Int32
    let loop: any EventLoop
    /// Strong, not weak (a weak reference costs a side-table lookup per use on the hot path);
    /// the cycle with the connection's stream table is broken in `closed`, which runs for
    /// every stream, also when the connection goes away.
    private(set) var connection: ServerConnectionHandler?

    // The request head, filled in while headers arrive.
    var path = ""
    var httpMethod = ""
    var contentType = ""
    var encoding = ""
    var timeout: Duration?
    var timeoutInvalid = false
    var metadata = Metadata()
    var headerBytes = 0
    var headComplete = false
    var serverMethod: ServerMethod?
    var dispatched = false

    // Inbound.
    private var deframer: MessageDeframer
    private var inbox = CircularBuffer<[UInt8]>(initialCapacity: 2)
    private(set) var inboundEnded = false
    private var unconsumed = 0
    private var reader: CheckedContinuation<[UInt8]?, any Error>?

    // Outbound.
    private var outbound = OutboundBuffer()
    private var responseHeadersSent = false
    private var pendingTrailers: HeaderList?
    private var deferred = false
    private var writer: CheckedContinuation<Void, any Error>?
    private(set) var finished = false
    private var closed = false
    private var task: Task<Void, Never>?
    private var deadlineTimer: Scheduled<Void>?
    private var response = ResponseMetadata()

    /// Above this many buffered response bytes a writer waits for the client to read.
    private static let highWater = 256 << 10
    private static let lowWater = 64 << 10

    /// Request bytes this stream holds (partial message + unread messages), as charged to the
    /// connection's budget.
    private var bufferedBytes = 0
    private let limits: StreamLimits

    init(id: Int32, loop: any EventLoop, connection: ServerConnectionHandler, limits: StreamLimits) {
        self.id = id
        self.loop = loop
        self.connection = connection
        self.limits = limits
        self.deframer = MessageDeframer(maximumMessageSize: limits.maximumMessageSize)
    }

    // MARK: Request head

    /// Counts a header field against the header-list limit while the block is decoded; false
    /// once the limit is passed (the stream must then be reset, the field is not kept).
    func countHeader(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) -> Bool {
        headerBytes += name.count + value.count + 32
        return headerBytes <= limits.maximumHeaderListSize
    }

    func addHeader(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) {
        // The common headers are recognised from their bytes, without making Strings.
        switch KnownHeader(name) {
        case .path: path = String(decoding: value, as: UTF8.self)
        case .method: httpMethod = String(decoding: value, as: UTF8.self)
        case .contentType: contentType = String(decoding: value, as: UTF8.self)
        case .grpcEncoding: encoding = String(decoding: value, as: UTF8.self)
        case .grpcTimeout:
            timeout = WireFormats.decodeTimeout(String(decoding: value, as: UTF8.self))
            timeoutInvalid = timeout == nil
        case .authority: metadata.addString(String(decoding: value, as: UTF8.self), forKey: "authority")
        case .ignored: break
        case .other: addMetadata(name: String(decoding: name, as: UTF8.self), value: value)
        }
    }

    /// Custom metadata: `-bin` values are base64, possibly several joined by commas.
    private func addMetadata(name: String, value: UnsafeBufferPointer<UInt8>) {
        guard !name.hasPrefix(":") else { return }
        let text = String(decoding: value, as: UTF8.self)
        if Metadata.isBinaryKey(name) {
            for piece in text.split(separator: ",") {
                if let bytes = WireFormats.base64Decode(piece.trimmingSpaces()) {
                    metadata.addBinary(bytes, forKey: name)
                }
            }
        } else {
            metadata.addString(text, forKey: name)
        }
    }

    // MARK: Dispatch

    /// Starts the handler, on the loop, in a task that prefers the loop as its executor.
    func dispatch(
        interceptors: [any ServerInterceptor], executor: EventLoopTaskExecutor, peer: String, maximumTimeout: Duration
    ) {
        guard let method = serverMethod, !dispatched, !finished else { return }
        dispatched = true
        var deadline: ContinuousClock.Instant?
        if let requested = timeout {
            // A client may ask for up to 99999999 hours: clamp before any arithmetic.
            let timeout = requested.clamped(to: .zero...maximumTimeout)
            deadline = ContinuousClock.now + timeout
            deadlineTimer = loop.scheduleTask(in: .nanoseconds(timeout.saturatingNanoseconds)) { [self] in
                deadlineExpired()
            }
        }
        let context = ServerContext(
            descriptor: method.descriptor, metadata: metadata, deadline: deadline, peer: peer, response: response)
        task = Task.immediate(executorPreference: executor) { [self] in
            let (status, trailers) = await ServerCallRunner.run(
                method: method, interceptors: interceptors, source: self, sink: self, context: context)
            if loop.inEventLoop {
                finish(status: status, trailers: trailers)
            } else {
                loop.execute { self.finish(status: status, trailers: trailers) }
            }
        }
    }

    private func deadlineExpired() {
        deadlineTimer = nil
        guard !finished else { return }
        finish(status: Status(code: .deadlineExceeded, message: "the deadline passed"), trailers: [:])
        task?.cancel()
    }

    // MARK: Inbound

    func receiveData(_ bytes: UnsafeRawBufferPointer) {
        guard let connection else { return }
        if finished || closed {
            connection.consume(streamID: id, count: bytes.count)
            return
        }
        guard connection.chargeBuffered(bytes.count) else {
            connection.consume(streamID: id, count: bytes.count)
            refuse(
                Status(
                    code: .resourceExhausted,
                    message:
                        "the connection holds more than \(connection.maximumBufferedRequestBytes) request bytes in buffers"
                ))
            return
        }
        bufferedBytes += bytes.count
        unconsumed += bytes.count
        deframer.appendTakingWholeMessages(bytes) { next in
            if case .message(let message) = next { inbox.append(message) }
            return true
        }
        while true {
            switch deframer.next() {
            case .message(let message):
                inbox.append(message)
            case .needMoreData:
                releaseBuffered()
                wakeReader()
                creditIfRoom()
                return
            case .tooLarge(let length):
                refuse(
                    Status(
                        code: .resourceExhausted,
                        message:
                            "a request message of \(length) bytes exceeds the limit of \(deframer.maximumMessageSize)"
                    ))
                return
            case .compressed:
                refuse(
                    Status(code: .internalError, message: "a compressed message arrived but no compression was agreed"))
                return
            }
        }
    }

    func receiveEnd() {
        inboundEnded = true
        if deframer.bufferedCount > 0, !finished {
            refuse(Status(code: .internalError, message: "the request ended inside a message"))
            return
        }
        wakeReader()
    }

    /// Ends the call now with an error status and stops the client from sending more.
    private func refuse(_ status: Status) {
        finish(status: status, trailers: [:])
        task?.cancel()
        connection?.consume(streamID: id, count: unconsumed)
        unconsumed = 0
        inbox.removeAll()
        releaseBuffered()
    }

    /// Gives back to the connection's budget what this stream no longer holds: the budget
    /// counts the partial message in the deframer and the messages not yet read.
    private func releaseBuffered() {
        var holding = deframer.bufferedCount
        for message in inbox { holding += message.count }
        if finished || closed { holding = 0 }
        if holding < bufferedBytes {
            connection?.releaseBuffered(bufferedBytes - holding)
            bufferedBytes = holding
        }
    }

    /// Gives the client flow-control credit for what it sent, unless messages pile up unread.
    private func creditIfRoom() {
        guard inbox.count < 2, unconsumed > 0, let connection else { return }
        connection.consume(streamID: id, count: unconsumed)
        unconsumed = 0
        connection.scheduleFlush()
    }

    private func wakeReader() {
        guard let reader else { return }
        if let message = inbox.popFirst() {
            self.reader = nil
            releaseBuffered()
            reader.resume(returning: message)
            creditIfRoom()
        } else if inboundEnded {
            self.reader = nil
            reader.resume(returning: nil)
        }
    }

    /// The next message if it is here (`.some`), the end (`.some(nil)`), or nil to wait.
    private func takeNow() throws -> [UInt8]?? {
        if let message = inbox.popFirst() {
            releaseBuffered()
            creditIfRoom()
            return .some(message)
        }
        if inboundEnded { return .some(nil) }
        if finished || closed { throw CancellationError() }
        return nil
    }

    func nextMessage() async throws -> [UInt8]? {
        if loop.inEventLoop, let ready = try takeNow() { return ready }
        return try await withCheckedThrowingContinuation { continuation in
            if loop.inEventLoop {
                awaitMessage(continuation)
            } else {
                loop.execute { self.awaitMessage(continuation) }
            }
        }
    }

    private func awaitMessage(_ continuation: CheckedContinuation<[UInt8]?, any Error>) {
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

    func writeMessage(_ message: [UInt8]) async throws {
        if loop.inEventLoop {
            try enqueue(message)
            if outbound.count <= Self.highWater { return }
            try await withCheckedThrowingContinuation { continuation in awaitDrain(continuation) }
            return
        }
        try await withCheckedThrowingContinuation { continuation in
            loop.execute {
                do {
                    try self.enqueue(message)
                    self.awaitDrain(continuation)
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    private func awaitDrain(_ continuation: CheckedContinuation<Void, any Error>) {
        if finished || closed {
            continuation.resume(throwing: CancellationError())
        } else if outbound.count <= Self.highWater {
            continuation.resume()
        } else {
            writer = continuation
        }
    }

    private func enqueue(_ message: [UInt8]) throws {
        guard !finished, !closed, let connection else { throw CancellationError() }
        outbound.appendMessage(message)
        if !responseHeadersSent {
            responseHeadersSent = true
            var headers = HeaderList()
            headers.add(":status", "200")
            headers.add("content-type", "application/grpc")
            add(response.headers, to: &headers)
            connection.submitResponse(streamID: id, headers: headers, hasBody: true)
        } else if deferred {
            deferred = false
            connection.resumeData(streamID: id)
        }
        connection.scheduleFlush()
    }

    /// Ends the call with a status: trailers after the last message, or a trailers-only
    /// response when nothing was sent. Later calls do nothing.
    func finish(status: Status, trailers: Metadata) {
        guard !finished else { return }
        finished = true
        deadlineTimer?.cancel()
        deadlineTimer = nil
        failWaiters()
        guard !closed, let connection else { return }
        var headers = HeaderList()
        if !responseHeadersSent {
            responseHeadersSent = true
            headers.add(":status", "200")
            headers.add("content-type", "application/grpc")
            add(response.headers, to: &headers)
            addStatus(status, trailers, to: &headers)
            connection.submitResponse(streamID: id, headers: headers, hasBody: false)
        } else {
            addStatus(status, trailers, to: &headers)
            pendingTrailers = headers
            if deferred {
                deferred = false
                connection.resumeData(streamID: id)
            }
        }
        connection.scheduleFlush()
    }

    /// Called by nghttp2 (through the connection) for DATA payload.
    func readData(into buffer: UnsafeMutableRawBufferPointer) -> NGHTTP2Session.DataRead {
        let count = outbound.take(into: buffer)
        if let writer, outbound.count <= Self.lowWater {
            self.writer = nil
            writer.resume()
        }
        if outbound.isEmpty, let trailers = pendingTrailers, let connection {
            pendingTrailers = nil
            connection.submitTrailers(streamID: id, headers: trailers)
            return .end(count: count, endStream: false)
        }
        if count > 0 { return .data(count: count) }
        deferred = true
        return .deferred
    }

    /// Once our status is on the wire, a client still sending is told to stop (RST_STREAM
    /// NO_ERROR), as the gRPC spec's "early server closure" asks. Not earlier: nghttp2 could
    /// send the reset ahead of the status.
    func sentEndOfStream() {
        guard !inboundEnded, let connection else { return }
        connection.resetStream(streamID: id, errorCode: NGHTTP2Session.ErrorCode.noError)
    }

    /// nghttp2 closed the stream: a client reset, or the normal end.
    func closed(errorCode: UInt32) {
        defer { connection = nil }
        closed = true
        deadlineTimer?.cancel()
        deadlineTimer = nil
        if !finished {
            finished = true
            task?.cancel()
        }
        failWaiters()
        inbox.removeAll()
        releaseBuffered()
        if unconsumed > 0 {
            connection?.consumeConnection(count: unconsumed)
            unconsumed = 0
        }
    }

    private func failWaiters() {
        if let reader {
            self.reader = nil
            if inbox.isEmpty {
                reader.resume(throwing: CancellationError())
            } else {
                reader.resume(returning: inbox.removeFirst())
            }
        }
        if let writer {
            self.writer = nil
            writer.resume(throwing: CancellationError())
        }
    }

    /// Adds a handler's metadata, all of it or (past the limit) none of it, so the call's
    /// answer can always be sent: a header block nghttp2 cannot send would leave it unanswered.
    private func add(_ metadata: Metadata, to headers: inout HeaderList) {
        guard !metadata.isEmpty else { return }
        var fields = HeaderList()
        for (key, value) in metadata {
            switch value {
            case .string(let text): fields.add(key, text)
            case .binary(let bytes): fields.add(key, WireFormats.base64Encode(bytes))
            }
            if fields.size > limits.maximumResponseMetadataSize { return }
        }
        headers.append(fields)
    }

    private func addStatus(_ status: Status, _ trailers: Metadata, to headers: inout HeaderList) {
        headers.add("grpc-status", String(status.code.rawValue))
        if !status.message.isEmpty {
            headers.add(
                "grpc-message", WireFormats.percentEncode(status.message, limit: limits.maximumStatusMessageSize))
        }
        add(trailers, to: &headers)
    }
}

/// The per-call limits of a server connection, from its `ServerConfiguration`.
struct StreamLimits {
    var maximumMessageSize: Int
    var maximumHeaderListSize: Int
    var maximumStatusMessageSize: Int
    var maximumResponseMetadataSize: Int

    init(_ configuration: ServerConfiguration) {
        maximumMessageSize = configuration.maximumReceiveMessageSize
        maximumHeaderListSize = configuration.maximumHeaderListSize
        maximumStatusMessageSize = configuration.maximumStatusMessageSize
        maximumResponseMetadataSize = configuration.maximumResponseMetadataSize
    }
}

/// Request headers the server looks at, recognised by their bytes.
private enum KnownHeader {
    case path, method, contentType, grpcEncoding, grpcTimeout, authority, ignored, other

    private static let table: [(name: [UInt8], header: KnownHeader)] = [
        (Array(":path".utf8), .path), (Array(":method".utf8), .method), (Array(":scheme".utf8), .ignored),
        (Array(":authority".utf8), .authority), (Array("content-type".utf8), .contentType),
        (Array("te".utf8), .ignored),
        (Array("user-agent".utf8), .other), (Array("grpc-timeout".utf8), .grpcTimeout),
        (Array("grpc-encoding".utf8), .grpcEncoding), (Array("grpc-accept-encoding".utf8), .ignored),
        (Array("grpc-message-type".utf8), .ignored),
    ]

    init(_ name: UnsafeBufferPointer<UInt8>) {
        for entry in Self.table where entry.name.count == name.count && entry.name.elementsEqual(name) {
            self = entry.header
            return
        }
        self = .other
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
