import Synchronization

/// A response message with the metadata that came with it.
public struct ClientResponse<Message: Sendable>: Sendable {
    /// The message.
    public var message: Message
    /// Custom metadata from the response headers.
    public var headers: Metadata
    /// Custom metadata from the trailers.
    public var trailers: Metadata
}

/// Sends a client-streaming call's request messages.
public struct RequestWriter<Element: Sendable>: Sendable {
    @usableFromInline let stream: any ClientStream
    @usableFromInline let encode: @Sendable (Element) -> [UInt8]

    @inlinable
    init(stream: any ClientStream, encode: @escaping @Sendable (Element) -> [UInt8]) {
        self.stream = stream
        self.encode = encode
    }

    /// Sends one message; suspends while the server is not reading.
    @inlinable
    public func write(_ message: Element) async throws {
        try await stream.send(encode(message))
    }
}

/// A call's response messages as an async sequence; it throws the call's `RPCError` when the
/// call ends with a status other than OK. Headers and trailers are kept as they pass.
public final class ClientResponseStream<Element: Sendable>: AsyncSequence, Sendable {
    private let stream: any ClientStream
    private let decode: @Sendable ([UInt8]) throws -> Element
    private let state = Mutex<(headers: Metadata?, trailers: Metadata?, finished: Bool)>((nil, nil, false))

    init(stream: any ClientStream, decode: @escaping @Sendable ([UInt8]) throws -> Element) {
        self.stream = stream
        self.decode = decode
    }

    /// Custom metadata from the response headers, once they have been received.
    public var headers: Metadata? { state.withLock { $0.headers } }
    /// Custom metadata from the trailers, once the call has ended.
    public var trailers: Metadata? { state.withLock { $0.trailers } }

    /// The next message; nil after an OK status.
    func next() async throws -> Element? {
        if state.withLock({ $0.finished }) { return nil }
        while true {
            switch await stream.receive() {
            case .headers(let metadata):
                state.withLock { $0.headers = metadata }
            case .message(let bytes):
                do {
                    return try decode(bytes)
                } catch {
                    stream.cancel()
                    throw RPCError(code: .internalError, message: "cannot decode a response message: \(error)")
                }
            case .end(let status, let trailers):
                state.withLock {
                    $0.trailers = trailers
                    $0.finished = true
                }
                if status.code == .ok { return nil }
                throw RPCError(code: status.code, message: status.message, metadata: trailers)
            }
        }
    }

    /// Iterates over the messages.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let owner: ClientResponseStream

        /// The next message, or nil at the end.
        public mutating func next() async throws -> Element? {
            try await owner.next()
        }
    }

    /// An iterator.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(owner: self)
    }
}

/// Makes calls over a transport, through client interceptors. Generated clients wrap it.
public struct RPCClient: Sendable {
    /// The transport calls go over.
    public let transport: any ClientTransport
    /// Interceptors, the first one outermost.
    public let interceptors: [any ClientInterceptor]

    /// A client over a transport.
    public init(transport: any ClientTransport, interceptors: [any ClientInterceptor] = []) {
        self.transport = transport
        self.interceptors = interceptors
    }

    /// Opens the call; with `request`, that one message and the end go with the headers.
    private func open(_ call: ClientCallInfo, request: [UInt8]?) async throws -> any ClientStream {
        let deadline = call.options.effectiveDeadline()
        if let deadline, deadline <= .now {
            throw RPCError(code: .deadlineExceeded, message: "the deadline passed before the call started")
        }
        if let request {
            return try await transport.openStream(
                descriptor: call.descriptor, metadata: call.metadata, deadline: deadline, options: call.options,
                request: request)
        }
        return try await transport.openStream(
            descriptor: call.descriptor, metadata: call.metadata, deadline: deadline, options: call.options)
    }

    /// Runs `body` with the stream, cancelling the stream if the calling task is cancelled or
    /// `body` leaves before the call has ended. With `request` the whole request is sent
    /// on opening.
    private func withStream<R: Sendable>(
        _ call: ClientCallInfo, request: [UInt8]? = nil, _ body: (any ClientStream) async throws -> R
    ) async throws -> R {
        let stream = try await open(call, request: request)
        return try await withTaskCancellationHandler {
            do {
                let result = try await body(stream)
                stream.cancel()
                return result
            } catch is CancellationError {
                stream.cancel()
                throw RPCError(code: .cancelled, message: "the call was cancelled")
            } catch {
                stream.cancel()
                throw error
            }
        } onCancel: {
            stream.cancel()
        }
    }

    /// A unary call.
    public func unary<Request: Sendable, Response: Sendable>(
        _ descriptor: MethodDescriptor, request: Request, metadata: Metadata = [:], options: CallOptions = .defaults,
        encode: @escaping @Sendable (Request) -> [UInt8], decode: @escaping @Sendable ([UInt8]) throws -> Response
    ) async throws -> ClientResponse<Response> {
        let call = ClientCallInfo(descriptor: descriptor, metadata: metadata, options: options)
        return try await interceptors.run(call) { call in
            try await withStream(call, request: encode(request)) { stream in
                try await Self.collectSingle(stream, decode: decode)
            }
        }
    }

    /// A client-streaming call: `requests` writes the messages, then the one response returns.
    public func clientStreaming<Request: Sendable, Response: Sendable>(
        _ descriptor: MethodDescriptor, metadata: Metadata = [:], options: CallOptions = .defaults,
        encode: @escaping @Sendable (Request) -> [UInt8], decode: @escaping @Sendable ([UInt8]) throws -> Response,
        requests: @escaping @Sendable (RequestWriter<Request>) async throws -> Void
    ) async throws -> ClientResponse<Response> {
        let call = ClientCallInfo(descriptor: descriptor, metadata: metadata, options: options)
        return try await interceptors.run(call) { call in
            try await withStream(call) { stream in
                try await requests(RequestWriter(stream: stream, encode: encode))
                try await stream.finishSending()
                return try await Self.collectSingle(stream, decode: decode)
            }
        }
    }

    /// A server-streaming call: `onResponse` reads the messages; the call ends when it returns.
    public func serverStreaming<Request: Sendable, Response: Sendable, Result: Sendable>(
        _ descriptor: MethodDescriptor, request: Request, metadata: Metadata = [:], options: CallOptions = .defaults,
        encode: @escaping @Sendable (Request) -> [UInt8], decode: @escaping @Sendable ([UInt8]) throws -> Response,
        onResponse: @escaping @Sendable (ClientResponseStream<Response>) async throws -> Result
    ) async throws -> Result {
        let call = ClientCallInfo(descriptor: descriptor, metadata: metadata, options: options)
        return try await interceptors.run(call) { call in
            try await withStream(call, request: encode(request)) { stream in
                try await onResponse(ClientResponseStream(stream: stream, decode: decode))
            }
        }
    }

    /// A bidirectional call: `requests` writes while `onResponse` reads, concurrently.
    public func bidirectionalStreaming<Request: Sendable, Response: Sendable, Result: Sendable>(
        _ descriptor: MethodDescriptor, metadata: Metadata = [:], options: CallOptions = .defaults,
        encode: @escaping @Sendable (Request) -> [UInt8], decode: @escaping @Sendable ([UInt8]) throws -> Response,
        requests: @escaping @Sendable (RequestWriter<Request>) async throws -> Void,
        onResponse: @escaping @Sendable (ClientResponseStream<Response>) async throws -> Result
    ) async throws -> Result {
        let call = ClientCallInfo(descriptor: descriptor, metadata: metadata, options: options)
        return try await interceptors.run(call) { call in
            try await withStream(call) { stream in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await requests(RequestWriter(stream: stream, encode: encode))
                        try await stream.finishSending()
                    }
                    let result = try await onResponse(ClientResponseStream(stream: stream, decode: decode))
                    group.cancelAll()
                    // A writer still blocked on flow control ends with the call.
                    stream.cancel()
                    _ = try? await group.next()
                    return result
                }
            }
        }
    }

    private static func collectSingle<Response>(
        _ stream: any ClientStream, decode: @Sendable ([UInt8]) throws -> Response
    ) async throws -> ClientResponse<Response> {
        var headers = Metadata()
        var message: [UInt8]?
        while true {
            switch await stream.receive() {
            case .headers(let metadata):
                headers = metadata
            case .message(let bytes):
                guard message == nil else {
                    stream.cancel()
                    throw RPCError(code: .internalError, message: "the server sent more than one response message")
                }
                message = bytes
            case .end(let status, let trailers):
                guard status.code == .ok else {
                    throw RPCError(code: status.code, message: status.message, metadata: trailers)
                }
                guard let message else {
                    throw RPCError(code: .internalError, message: "the server sent no response message")
                }
                do {
                    return ClientResponse(message: try decode(message), headers: headers, trailers: trailers)
                } catch {
                    throw RPCError(code: .internalError, message: "cannot decode the response message: \(error)")
                }
            }
        }
    }
}
