/// Runs one server call through the interceptors and the handler, and decides its status.
public enum ServerCallRunner {
    /// Runs the call to completion; never throws. Returns the status and the trailers to send.
    ///
    /// An `RPCError` keeps its code, message and metadata. Cancellation becomes
    /// DEADLINE_EXCEEDED past the deadline and CANCELLED before it. Any other error becomes
    /// UNKNOWN without its details, which may be internal. A call whose task was cancelled (the
    /// client went away, or the deadline passed) and that then failed with INTERNAL or UNKNOWN
    /// (a database call cut short, say) ends as the cancellation, not as a server fault.
    public static func run(
        method: ServerMethod, interceptors: [any ServerInterceptor], source: any RequestSource,
        sink: any ResponseSink, context: ServerContext
    ) async -> (status: Status, trailers: Metadata) {
        do {
            try await ServerContext.$current.withValue(context) {
                if interceptors.isEmpty {
                    try await method.handler(source, sink, context)
                } else {
                    try await interceptors.run(context: context) { context in
                        try await method.handler(source, sink, context)
                    }
                }
            }
            return (.ok, context.response.trailers)
        } catch {
            var trailers = context.response.trailers
            let status = status(for: error, deadline: context.deadline)
            if let error = error as? RPCError { trailers.add(contentsOf: error.metadata) }
            return (status, trailers)
        }
    }

    /// The status a caller sees for an error thrown while serving.
    public static func status(for error: any Error, deadline: ContinuousClock.Instant?) -> Status {
        switch error {
        case let error as RPCError:
            if Task.isCancelled, error.code == .internalError || error.code == .unknown {
                return cancellation(deadline: deadline)
            }
            return error.status
        case is CancellationError:
            return cancellation(deadline: deadline)
        default:
            if Task.isCancelled { return cancellation(deadline: deadline) }
            return Status(code: .unknown, message: "the handler failed")
        }
    }

    private static func cancellation(deadline: ContinuousClock.Instant?) -> Status {
        if let deadline, deadline <= .now {
            return Status(code: .deadlineExceeded, message: "the deadline passed")
        }
        return Status(code: .cancelled, message: "the call was cancelled")
    }
}
