/// One part of what a server sends back on a call.
public enum ClientResponsePart: Sendable {
    /// The response headers' custom metadata.
    case headers(Metadata)
    /// One serialized response message.
    case message([UInt8])
    /// The final status and the trailers' custom metadata; nothing follows.
    case end(Status, Metadata)
}

/// The client side of one call on a transport.
public protocol ClientStream: AnyObject, Sendable {
    /// Sends one serialized request message; suspends while the server is not reading.
    func send(_ message: [UInt8]) async throws
    /// Tells the server no more messages follow.
    func finishSending() async throws
    /// The next part of the response; `.end` is always the last.
    func receive() async -> ClientResponsePart
    /// Abandons the call (RST_STREAM CANCEL); later `receive` calls return `.end(CANCELLED)`.
    func cancel()
}

/// Opens calls to a server (or a set of servers). The HTTP/2 transport implements it.
public protocol ClientTransport: Sendable {
    /// Starts a call: sends the request headers.
    func openStream(
        descriptor: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?,
        options: CallOptions
    ) async throws -> any ClientStream

    /// Starts a call whose whole request is one message: the headers, `request` and the end.
    /// A transport may send the three together (one write instead of three).
    func openStream(
        descriptor: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?,
        options: CallOptions, request: [UInt8]
    ) async throws -> any ClientStream
}

extension ClientTransport {
    /// Opens the call, then sends `request` and the end as two more steps.
    public func openStream(
        descriptor: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?,
        options: CallOptions, request: [UInt8]
    ) async throws -> any ClientStream {
        let stream = try await openStream(
            descriptor: descriptor, metadata: metadata, deadline: deadline, options: options)
        do {
            try await stream.send(request)
            try await stream.finishSending()
        } catch {
            stream.cancel()
            throw error
        }
        return stream
    }
}
