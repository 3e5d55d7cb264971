/// Retries a unary call that failed with UNAVAILABLE when repeating it is harmless: a replica
/// that died a moment ago still looks connected to the client, so the first call sent its way
/// fails ("the connection was lost") although another replica could have answered.
///
/// Only unary calls are retried (their request is whole in memory and nothing of the response was
/// handed to the caller yet), only methods `isSafeToRepeat` accepts (by default reads: names
/// starting with Get, List, Search, Stats, Check or WhoAmI), and never past the call's
/// deadline: a retry gets what is left of the first attempt's timeout.
public struct RetryInterceptor: ClientInterceptor {
    /// Attempts in all, the first included.
    public let maximumAttempts: Int
    /// The pause before each retry.
    public let backoff: Duration
    /// Whether a method may run twice with the same request.
    public let isSafeToRepeat: @Sendable (MethodDescriptor) -> Bool

    /// A policy; by default two attempts, 20 ms apart, for read methods.
    public init(
        maximumAttempts: Int = 2, backoff: Duration = .milliseconds(20),
        isSafeToRepeat: @escaping @Sendable (MethodDescriptor) -> Bool = RetryInterceptor.isRead
    ) {
        self.maximumAttempts = max(1, maximumAttempts)
        self.backoff = backoff
        self.isSafeToRepeat = isSafeToRepeat
    }

    /// Methods that only read, judged by the naming convention of the contract.
    public static func isRead(_ method: MethodDescriptor) -> Bool {
        ["Get", "List", "Search", "Stats", "Check", "WhoAmI"].contains { method.method.hasPrefix($0) }
    }

    /// Runs the call, again after an UNAVAILABLE failure while attempts and time remain.
    public func intercept<Result: Sendable>(
        _ call: ClientCallInfo, next: @Sendable (ClientCallInfo) async throws -> Result
    ) async throws -> Result {
        guard call.descriptor.kind == .unary, isSafeToRepeat(call.descriptor), maximumAttempts > 1 else {
            return try await next(call)
        }
        let deadline = call.options.effectiveDeadline()
        var attempt = 1
        var current = call
        while true {
            do {
                return try await next(current)
            } catch let error as RPCError where error.code == .unavailable && attempt < maximumAttempts {
                try await Task.sleep(for: backoff)
                if let deadline {
                    let left = deadline - .now
                    if left <= .zero { throw error }
                    current.options.timeout = left
                }
                attempt += 1
            }
        }
    }
}
