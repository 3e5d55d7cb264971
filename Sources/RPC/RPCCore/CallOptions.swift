/// Per-call settings on the client side.
public struct CallOptions: Sendable, Hashable {
    /// How long the caller waits. nil means no timeout of its own; a call made while serving
    /// another call still inherits what is left of that call's deadline.
    public var timeout: Duration?
    /// The largest response message accepted; larger ones fail with RESOURCE_EXHAUSTED.
    /// nil uses the transport's limit.
    public var maximumResponseMessageSize: Int?

    /// Options with the given values.
    public init(timeout: Duration? = nil, maximumResponseMessageSize: Int? = nil) {
        self.timeout = timeout
        self.maximumResponseMessageSize = maximumResponseMessageSize
    }

    /// No timeout, transport defaults.
    public static var defaults: CallOptions { CallOptions() }

    /// The deadline for a call starting now: the nearer of this timeout and the deadline of
    /// the call being served by the current task, if any.
    public func effectiveDeadline(now: ContinuousClock.Instant = .now) -> ContinuousClock.Instant? {
        let own = timeout.map { now + $0 }
        switch (own, ServerContext.current?.deadline) {
        case (let own?, let inherited?): return min(own, inherited)
        case (let own?, nil): return own
        case (nil, let inherited): return inherited
        }
    }
}
