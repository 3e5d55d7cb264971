/// When an HTTP/1.1 connection is cut off: idle too long between requests, or too slow sending
/// one. A plain state machine; `TimeoutHandler` runs its actions on the channel.
struct ConnectionTimeouts: Sendable, Equatable {
    /// What the connection is doing.
    enum Phase: Sendable, Equatable {
        /// Waiting for the next request (the idle timer runs).
        case idle
        /// Receiving a request's head and body (the request timer runs).
        case receiving
        /// The request is in; the response is being produced (no timer: a stream may last).
        case responding
        /// The response ended before the request did (e.g. refused early); the connection
        /// closes once the response is out.
        case respondedEarly
    }

    /// What to do after an event.
    enum Action: Sendable, Equatable {
        case none
        /// Start the timer numbered `generation` for `after`; an older one no longer counts.
        case arm(after: Duration, generation: UInt64)
        /// Stop any timer.
        case disarm
        /// Answer 408 and close (a request arrived too slowly).
        case requestTimedOut
        /// Close quietly (idle).
        case close
    }

    private(set) var phase = Phase.idle
    private var generation: UInt64 = 0
    let idleTimeout: Duration
    let requestTimeout: Duration

    init(idleTimeout: Duration, requestTimeout: Duration) {
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
    }

    /// The connection opened.
    mutating func opened() -> Action { arm(idleTimeout) }

    /// A request's head arrived.
    mutating func requestStarted() -> Action {
        phase = .receiving
        return arm(requestTimeout)
    }

    /// A request's end arrived.
    mutating func requestEnded() -> Action {
        switch phase {
        case .receiving:
            phase = .responding
            generation &+= 1
            return .disarm
        case .idle, .responding, .respondedEarly:
            return .none
        }
    }

    /// A response's end was written.
    mutating func responseEnded() -> Action {
        switch phase {
        case .responding, .idle:
            phase = .idle
            return arm(idleTimeout)
        case .receiving, .respondedEarly:
            // The rest of this request is not wanted: the connection is closed by the server.
            phase = .respondedEarly
            generation &+= 1
            return .disarm
        }
    }

    /// The timer numbered `fired` went off.
    mutating func timerFired(_ fired: UInt64) -> Action {
        guard fired == generation else { return .none }
        switch phase {
        case .idle: return .close
        case .receiving: return .requestTimedOut
        case .responding, .respondedEarly: return .none
        }
    }

    private mutating func arm(_ after: Duration) -> Action {
        generation &+= 1
        return .arm(after: after, generation: generation)
    }
}
