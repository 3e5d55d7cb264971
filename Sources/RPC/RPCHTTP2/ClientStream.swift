import NIOCore
import RPCCore

/// The client side of one call on a connection: request messages on their way out, response
/// parts on their way to the caller. State is confined to the connection's event loop; the
/// caller's methods hop there.
final class HTTP2ClientStream: ClientStream, @unchecked Sendable {
    let loop: any EventLoop
    /// Strong (see `ServerStream.connection`); released when the stream ends.
    private var connection: ClientConnectionHandler?
    private(set) var id: Int32 = 0
    private let deadline: ContinuousClock.Instant?

    private var outbound = OutboundBuffer()
    private var endRequested = false
    private var deferred = false
    private var writer: CheckedContinuation<Void, any Error>?

    private var deframer: MessageDeframer
    private var parts = CircularBuffer<ClientResponsePart>(initialCapacity: 4)
    private var receiver: CheckedContinuation<ClientResponsePart, Never>?
    private var unconsumed = 0
    private var ended = false
    private var delivered = false

    private var headersReceived = false
    private var httpStatus = ""
    private var contentType = ""
    private var grpcStatus: Int?
    private var grpcMessage = ""
    private var metadata = Metadata()
    private var deadlineTimer: Scheduled<Void>?

    private static let highWater = 256 << 10
    private static let lowWater = 64 << 10

    init(
        loop: any EventLoop, connection: ClientConnectionHandler, deadline: ContinuousClock.Instant?,
        maximumMessageSize: Int
    ) {
        self.loop = loop
        self.connection = connection
        self.deadline = deadline
        self.deframer = MessageDeframer(maximumMessageSize: maximumMessageSize)
    }

    /// Called once nghttp2 has given the stream its id.
    func opened(id: Int32) {
        self.id = id
        guard let deadline else { return }
        let remaining = deadline - .now
        deadlineTimer = loop.scheduleTask(in: .nanoseconds(max(0, remaining.nanoseconds))) { [self] in
            deadlineTimer = nil
            abandon(Status(code: .deadlineExceeded, message: "the deadline passed"))
        }
    }

    // MARK: Caller side

    func send(_ message: [UInt8]) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            loop.execute {
                // Once the call has ended (the server may answer before reading the request),
                // writes are dropped; `receive` reports the status that ended it.
                guard !self.ended, let connection = self.connection else {
                    continuation.resume()
                    return
                }
                guard !self.endRequested else {
                    continuation.resume(
                        throwing: RPCError(code: .internalError, message: "a message after the end of the request"))
                    return
                }
                self.outbound.appendMessage(message)
                self.resume(connection)
                if self.outbound.count <= Self.highWater {
                    continuation.resume()
                } else {
                    self.writer = continuation
                }
            }
        }
    }

    /// Queues the call's one request message and its end, before the stream is submitted
    /// (on the loop).
    func queueWholeRequest(_ message: [UInt8]) {
        outbound.appendMessage(message)
        endRequested = true
    }

    func finishSending() async throws {
        loop.execute {
            guard !self.endRequested, let connection = self.connection else { return }
            self.endRequested = true
            self.resume(connection)
        }
    }

    private func resume(_ connection: ClientConnectionHandler) {
        if deferred {
            deferred = false
            connection.resumeData(streamID: id)
        }
        connection.scheduleFlush()
    }

    func receive() async -> ClientResponsePart {
        // A caller on the connection's loop (the usual case: tasks prefer it) takes what has
        // arrived at once, and waits without a hop through the loop's queue.
        if loop.inEventLoop, let ready = takeReady() { return ready }
        return await withCheckedContinuation { continuation in
            if loop.inEventLoop {
                awaitPart(continuation)
            } else {
                loop.execute { self.awaitPart(continuation) }
            }
        }
    }

    /// A part that has arrived, or the end once everything was delivered; nil to wait.
    private func takeReady() -> ClientResponsePart? {
        if let part = parts.popFirst() {
            credit()
            return part
        }
        if delivered { return .end(Status(code: .cancelled, message: "the call has ended"), [:]) }
        return nil
    }

    private func awaitPart(_ continuation: CheckedContinuation<ClientResponsePart, Never>) {
        if let ready = takeReady() {
            continuation.resume(returning: ready)
        } else {
            receiver = continuation
        }
    }

    func cancel() {
        loop.execute {
            self.abandon(Status(code: .cancelled, message: "the call was cancelled"))
        }
    }

    /// Ends the call locally with `status` and resets the stream.
    private func abandon(_ status: Status) {
        guard !ended else { return }
        if id > 0 { connection?.resetStream(streamID: id, errorCode: NGHTTP2Session.ErrorCode.cancel) }
        end(status, [:])
        connection?.scheduleFlush()
    }

    // MARK: Connection side

    func readData(into buffer: UnsafeMutableRawBufferPointer) -> NGHTTP2Session.DataRead {
        let count = outbound.take(into: buffer)
        if let writer, outbound.count <= Self.lowWater {
            self.writer = nil
            writer.resume()
        }
        if outbound.isEmpty, endRequested { return .end(count: count, endStream: true) }
        if count > 0 { return .data(count: count) }
        deferred = true
        return .deferred
    }

    /// Header bytes received on this stream (name + value + 32 per field, trailers included).
    private var headerBytes = 0

    /// Counts a field against the 16 KiB header list we advertise; false past it (the stream
    /// is then reset and the call fails).
    func countHeader(nameCount: Int, valueCount: Int) -> Bool {
        headerBytes += nameCount + valueCount + 32
        return headerBytes <= 16 << 10
    }

    func receiveHeader(name: String, value: String) {
        switch name {
        case ":status": httpStatus = value
        case "content-type": contentType = value
        case "grpc-status": grpcStatus = Int(value)
        case "grpc-message": grpcMessage = WireFormats.percentDecode(value)
        case "grpc-encoding", "grpc-accept-encoding":
            break
        default:
            guard !name.hasPrefix(":") else { return }
            if Metadata.isBinaryKey(name) {
                for piece in value.split(separator: ",") {
                    if let bytes = WireFormats.base64Decode(String(piece)) { metadata.addBinary(bytes, forKey: name) }
                }
            } else {
                metadata.addString(value, forKey: name)
            }
        }
    }

    func receivedHeaders(endStream: Bool) {
        if !headersReceived {
            headersReceived = true
            if httpStatus != "200" {
                finishFromHeaders(fallback: Self.status(forHTTPStatus: httpStatus))
                return
            }
            if !contentType.hasPrefix("application/grpc") {
                finishFromHeaders(
                    fallback: Status(code: .unknown, message: "the response content-type is '\(contentType)'"))
                return
            }
            if endStream {
                finishFromHeaders(fallback: Status(code: .internalError, message: "the response has no grpc-status"))
                return
            }
            deliver(.headers(metadata))
            metadata = Metadata()
        } else {
            finishFromHeaders(fallback: Status(code: .internalError, message: "the trailers have no grpc-status"))
        }
    }

    private func finishFromHeaders(fallback: Status) {
        let status = grpcStatus.map { Status(code: Status.Code(rawValue: $0), message: grpcMessage) } ?? fallback
        end(status, metadata)
        metadata = Metadata()
    }

    func receiveData(_ bytes: UnsafeRawBufferPointer) {
        guard !ended else {
            connection?.consume(streamID: id, count: bytes.count)
            return
        }
        deframer.append(bytes)
        unconsumed += bytes.count
        while true {
            switch deframer.next() {
            case .message(let message):
                deliver(.message(message))
            case .needMoreData:
                credit()
                return
            case .tooLarge(let length):
                abandon(
                    Status(
                        code: .resourceExhausted,
                        message:
                            "a response message of \(length) bytes exceeds the limit of \(deframer.maximumMessageSize)"
                    ))
                return
            case .compressed:
                abandon(Status(code: .internalError, message: "a compressed response arrived but none was agreed"))
                return
            }
        }
    }

    /// Gives the server flow-control credit unless response messages pile up unread.
    private func credit() {
        guard parts.count < 2, unconsumed > 0, let connection else { return }
        connection.consume(streamID: id, count: unconsumed)
        unconsumed = 0
        connection.scheduleFlush()
    }

    func closed(errorCode: UInt32) {
        defer { connection = nil }
        if unconsumed > 0 {
            connection?.consumeConnection(count: unconsumed)
            unconsumed = 0
        }
        guard !ended else { return }
        let status =
            switch errorCode {
            case NGHTTP2Session.ErrorCode.refusedStream:
                Status(code: .unavailable, message: "the server refused the stream")
            case NGHTTP2Session.ErrorCode.cancel:
                Status(code: .cancelled, message: "the server cancelled the call")
            case NGHTTP2Session.ErrorCode.enhanceYourCalm:
                Status(code: .resourceExhausted, message: "the server asked to slow down")
            case 0:
                Status(code: .internalError, message: "the stream ended without a status")
            default:
                Status(code: .internalError, message: "the server reset the stream (HTTP/2 error \(errorCode))")
            }
        end(status, [:])
    }

    /// The connection is gone.
    func connectionLost() {
        defer { connection = nil }
        guard !ended else { return }
        end(Status(code: .unavailable, message: "the connection was lost"), [:])
    }

    private func end(_ status: Status, _ trailers: Metadata) {
        guard !ended else { return }
        ended = true
        deadlineTimer?.cancel()
        deadlineTimer = nil
        if let writer {
            self.writer = nil
            writer.resume(
                throwing: RPCError(code: status.code == .ok ? .cancelled : status.code, message: status.message))
        }
        deliver(.end(status, trailers))
        if !parts.isEmpty, unconsumed > 0 {
            connection?.consume(streamID: id, count: unconsumed)
            unconsumed = 0
        }
    }

    private func deliver(_ part: ClientResponsePart) {
        if case .end = part { delivered = true }
        if let receiver {
            self.receiver = nil
            receiver.resume(returning: part)
            credit()
        } else {
            parts.append(part)
        }
    }

    /// The status for a response that is not gRPC, from its HTTP status (gRPC's
    /// http-grpc-status-mapping).
    static func status(forHTTPStatus code: String) -> Status {
        let message = "the server answered HTTP \(code)"
        switch code {
        case "400": return Status(code: .internalError, message: message)
        case "401": return Status(code: .unauthenticated, message: message)
        case "403": return Status(code: .permissionDenied, message: message)
        case "404": return Status(code: .unimplemented, message: message)
        case "429", "502", "503", "504": return Status(code: .unavailable, message: message)
        default: return Status(code: .unknown, message: message)
        }
    }
}
