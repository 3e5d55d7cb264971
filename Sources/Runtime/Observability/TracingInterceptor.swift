import Logging
public import RPCCore

/// Gives every call a server handles its place in a distributed trace and a request id, and
/// makes both visible to the handler's logs and outgoing calls.
///
/// Continues the caller's trace from `traceparent` (keeping `tracestate`) as a new span, or
/// starts a trace when the header is absent or invalid; adopts `x-request-id` or makes one and
/// echoes it in the response headers (which a trailers-only response carries too). While the
/// rest of the call runs, `TraceContext.current` and `RequestID.current` are set, and log lines
/// carry `trace_id`, `span_id`, `request_id` and `method`. Place it outermost, so that even
/// calls rejected by other interceptors are traced and echo their request id.
public struct TracingInterceptor: ServerInterceptor {
    /// The interceptor.
    public init() {}

    /// Runs the rest of the call inside the call's trace span and log context.
    public func intercept(
        context: ServerContext, next: @Sendable (ServerContext) async throws -> Void
    ) async throws {
        let metadata = context.metadata
        let tracestate = metadata[stringValues: "tracestate"].joined(separator: ",")
        let incoming = metadata.firstString(forKey: "traceparent").flatMap {
            TraceContext(traceparent: $0, tracestate: tracestate)
        }
        let span = incoming?.child() ?? TraceContext.random()
        let requestID =
            metadata.firstString(forKey: RequestID.metadataKey).flatMap { RequestID.isAcceptable($0) ? $0 : nil }
            ?? RequestID.generate()
        context.response.headers.replaceOrAddString(requestID, forKey: RequestID.metadataKey)

        let logMetadata: [String: Logger.MetadataValue] = [
            "trace_id": .string(span.traceID), "span_id": .string(span.spanID), "request_id": .string(requestID),
            "method": .string(context.descriptor.path),
        ]
        try await TraceContext.$current.withValue(span) {
            try await RequestID.$current.withValue(requestID) {
                try await LogContext.with(logMetadata) { try await next(context) }
            }
        }
    }
}
