/// What a Redis connection is waiting for: the replies of the one batch of commands in flight,
/// matched to it in order. A plain state machine, driven by the channel handler and tested
/// without I/O.
struct RedisExchangeState {
    /// What the handler must do after an event.
    enum Action: Equatable {
        /// Nothing yet: more replies are due.
        case wait
        /// The batch is answered: hand these replies to its caller.
        case complete([RedisReply])
        /// A reply nobody asked for: the stream is out of step, close the connection.
        case unexpectedReply
    }

    private enum State {
        case idle
        case awaiting(expected: Int, replies: [RedisReply])
        case failed
    }

    private var state = State.idle

    /// Whether a batch is in flight.
    var isAwaiting: Bool {
        if case .awaiting = state { return true }
        return false
    }

    /// Whether the connection failed; nothing more may be sent on it.
    var isFailed: Bool {
        if case .failed = state { return true }
        return false
    }

    /// A batch of `count` commands was sent. Returns false (and changes nothing) when another
    /// batch is still in flight or the connection failed: the caller must not send.
    mutating func sent(count: Int) -> Bool {
        guard case .idle = state, count > 0 else { return false }
        var replies: [RedisReply] = []
        replies.reserveCapacity(count)
        state = .awaiting(expected: count, replies: replies)
        return true
    }

    /// One reply arrived.
    mutating func received(_ reply: RedisReply) -> Action {
        guard case .awaiting(let expected, var replies) = state else {
            state = .failed
            return .unexpectedReply
        }
        state = .failed  // Not copied on append while it is held here.
        replies.append(reply)
        if replies.count == expected {
            state = .idle
            return .complete(replies)
        }
        state = .awaiting(expected: expected, replies: replies)
        return .wait
    }

    /// The connection failed (closed, timed out, unparsable bytes). Returns whether a batch was
    /// in flight, whose caller must get the error.
    mutating func failed() -> Bool {
        let wasAwaiting = isAwaiting
        state = .failed
        return wasAwaiting
    }
}
