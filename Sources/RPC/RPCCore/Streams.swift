/// Where a server handler's request messages come from: the transport's side of a stream.
public protocol RequestSource: AnyObject, Sendable {
    /// The next serialized request message, or nil once the client has finished sending.
    /// Throws when the call is cancelled or the client breaks the protocol.
    func nextMessage() async throws -> [UInt8]?
}

/// Where a server handler's response messages go: the transport's side of a stream.
public protocol ResponseSink: AnyObject, Sendable {
    /// Sends one serialized response message (response headers first, if not sent yet).
    /// Suspends while the client is not reading (flow control); throws once the call is over.
    func writeMessage(_ message: [UInt8]) async throws
}

/// The request messages of a call, decoded, as an async sequence.
public struct RequestStream<Element: Sendable>: AsyncSequence, Sendable {
    @usableFromInline let source: any RequestSource
    @usableFromInline let decode: @Sendable ([UInt8]) throws -> Element

    /// A stream decoding each message of `source` with `decode`.
    @inlinable
    public init(source: any RequestSource, decode: @escaping @Sendable ([UInt8]) throws -> Element) {
        self.source = source
        self.decode = decode
    }

    /// Iterates over the messages.
    public struct AsyncIterator: AsyncIteratorProtocol {
        @usableFromInline let source: any RequestSource
        @usableFromInline let decode: @Sendable ([UInt8]) throws -> Element

        @inlinable
        init(source: any RequestSource, decode: @escaping @Sendable ([UInt8]) throws -> Element) {
            self.source = source
            self.decode = decode
        }

        /// The next message, or nil at the end.
        @inlinable
        public mutating func next() async throws -> Element? {
            guard let bytes = try await source.nextMessage() else { return nil }
            return try decode(bytes)
        }
    }

    /// An iterator.
    @inlinable
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(source: source, decode: decode)
    }
}

/// Sends a call's response messages, encoding each.
public struct ResponseWriter<Element: Sendable>: Sendable {
    @usableFromInline let sink: any ResponseSink
    @usableFromInline let encode: @Sendable (Element) -> [UInt8]

    /// A writer encoding with `encode` into `sink`.
    @inlinable
    public init(sink: any ResponseSink, encode: @escaping @Sendable (Element) -> [UInt8]) {
        self.sink = sink
        self.encode = encode
    }

    /// Sends one message; suspends while the peer is not reading.
    @inlinable
    public func write(_ message: Element) async throws {
        try await sink.writeMessage(encode(message))
    }

    /// Sends each message in order.
    @inlinable
    public func write(contentsOf messages: some Sequence<Element>) async throws {
        for message in messages { try await write(message) }
    }
}

extension RequestSource {
    /// The one message of a unary or server-streaming request.
    @inlinable
    public func singleMessage() async throws -> [UInt8] {
        guard let message = try await nextMessage() else {
            throw RPCError(code: .internalError, message: "the client sent no request message")
        }
        if try await nextMessage() != nil {
            throw RPCError(code: .internalError, message: "the client sent more than one request message")
        }
        return message
    }
}
