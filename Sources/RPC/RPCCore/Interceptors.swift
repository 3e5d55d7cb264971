/// Runs around every call a server handles: for authentication, logging, metrics, tracing.
///
/// Call `next` to continue (possibly with a changed context, or inside a task-local scope);
/// throw an `RPCError` to end the call with that status instead.
public protocol ServerInterceptor: Sendable {
    /// Intercepts one call.
    func intercept(
        context: ServerContext, next: @Sendable (ServerContext) async throws -> Void
    ) async throws
}

/// What a client interceptor sees of an outgoing call, and may change.
public struct ClientCallInfo: Sendable {
    /// The method called.
    public var descriptor: MethodDescriptor
    /// The request metadata.
    public var metadata: Metadata
    /// The call's options (deadline and more).
    public var options: CallOptions

    /// Call info.
    public init(descriptor: MethodDescriptor, metadata: Metadata, options: CallOptions) {
        self.descriptor = descriptor
        self.metadata = metadata
        self.options = options
    }
}

/// Runs around every call a client makes: to add credentials, log, measure.
public protocol ClientInterceptor: Sendable {
    /// Intercepts one call; `next` performs it (for streaming calls, all of it).
    func intercept<Result: Sendable>(
        _ call: ClientCallInfo, next: @Sendable (ClientCallInfo) async throws -> Result
    ) async throws -> Result
}

extension Array where Element == any ServerInterceptor {
    /// Runs `body` inside every interceptor, the first one outermost.
    func run(
        context: ServerContext, index: Int = 0, body: @escaping @Sendable (ServerContext) async throws -> Void
    ) async throws {
        if index == count { return try await body(context) }
        try await self[index].intercept(context: context) { context in
            try await self.run(context: context, index: index + 1, body: body)
        }
    }
}

extension Array where Element == any ClientInterceptor {
    /// Runs `body` inside every interceptor, the first one outermost.
    func run<Result: Sendable>(
        _ call: ClientCallInfo, index: Int = 0, body: @escaping @Sendable (ClientCallInfo) async throws -> Result
    ) async throws -> Result {
        if index == count { return try await body(call) }
        return try await self[index].intercept(call) { call in
            try await self.run(call, index: index + 1, body: body)
        }
    }
}
