public import RPCCore

/// Carries the current trace and request id into the calls a service makes to its peers, so
/// that one client request can be followed through every service it touches.
///
/// When `TraceContext.current` is set, adds a `traceparent` naming a new child span (same trace
/// id, new parent id) and the `tracestate`; when `RequestID.current` is set, adds
/// `x-request-id`. Metadata the caller set itself is left alone.
public struct TracePropagationInterceptor: ClientInterceptor {
    /// The interceptor.
    public init() {}

    /// Adds the trace headers and performs the call.
    public func intercept<Result: Sendable>(
        _ call: ClientCallInfo, next: @Sendable (ClientCallInfo) async throws -> Result
    ) async throws -> Result {
        var call = call
        if let current = TraceContext.current, call.metadata.firstString(forKey: "traceparent") == nil {
            let span = current.child()
            call.metadata.addString(span.traceparent, forKey: "traceparent")
            if let state = span.traceState, call.metadata[stringValues: "tracestate"].isEmpty {
                call.metadata.addString(state, forKey: "tracestate")
            }
        }
        if let requestID = RequestID.current, call.metadata.firstString(forKey: RequestID.metadataKey) == nil {
            call.metadata.addString(requestID, forKey: RequestID.metadataKey)
        }
        return try await next(call)
    }
}
