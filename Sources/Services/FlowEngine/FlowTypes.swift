/// The declared type of a state channel; values written to it are checked against it.
public enum ChannelType: String, Sendable, Codable, CaseIterable {
    /// A JSON string.
    case string
    /// A JSON number.
    case number
    /// `true` / `false`.
    case bool
    /// A JSON object.
    case object
    /// A JSON array.
    case array
    /// Anything.
    case any

    /// Whether `value` may be stored in a channel of this type (null clears any channel).
    public func accepts(_ value: JSONValue) -> Bool {
        switch (self, value) {
        case (.any, _), (_, .null), (.string, .string), (.number, .number), (.bool, .bool), (.object, .object),
            (.array, .array):
            return true
        default:
            return false
        }
    }
}

/// How a node's write is combined with a channel's current value.
public enum Reducer: String, Sendable, Codable, CaseIterable {
    /// The new value replaces the old one.
    case overwrite
    /// The value (or each element of an array value) is appended to the channel's array.
    case append
    /// The value's members are merged into the channel's object (shallow, new keys win).
    case merge
}

/// A declared state channel.
public struct Channel: Sendable, Hashable {
    /// Its name: the key in the state.
    public let name: String
    /// Its value type.
    public let type: ChannelType
    /// How writes combine.
    public let reducer: Reducer
    /// Its value before any node wrote it.
    public let initial: JSONValue
}

/// One validation problem, located by a JSON path such as `$.nodes[3].next`.
public struct FlowIssue: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Where: a JSON path into the flow document.
    public let path: String
    /// Stable machine-readable code, e.g. `UNKNOWN_NODE_KIND`, `DANGLING_EDGE`.
    public let code: String
    /// What is wrong and how to fix it.
    public let message: String

    /// Creates an issue.
    public init(path: String, code: String, message: String) {
        self.path = path
        self.code = code
        self.message = message
    }

    /// `path: CODE: message`.
    public var description: String { "\(path): \(code): \(message)" }
}

/// The kinds of node failure a retry policy can select.
public enum NodeErrorKind: String, Sendable, Codable, CaseIterable {
    /// The dependency (gateway, control plane, tool backend) is unreachable or overloaded.
    case unavailable
    /// The node or a call it made ran out of time.
    case timeout
    /// A rate limit refused the call.
    case rateLimited = "rate_limited"
    /// The tool answered with an error.
    case toolFailed = "tool_failed"
    /// The model call failed.
    case modelFailed = "model_failed"
    /// The node's inputs were invalid (bad arguments, type mismatch); retrying cannot help.
    case invalidArgument = "invalid_argument"
    /// Anything else.
    case `internal`
}

/// An error a node (or a client it calls) reports; its kind decides whether the node retries.
public struct NodeError: Error, Sendable, Hashable {
    /// What kind of failure.
    public let kind: NodeErrorKind
    /// A human-readable explanation without secrets.
    public let message: String

    /// Creates an error.
    public init(_ kind: NodeErrorKind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}

/// When and how often a failing node is tried again.
public struct RetryPolicy: Sendable, Hashable {
    /// Total attempts including the first (1: no retry).
    public var maxAttempts: Int
    /// The wait before the second attempt.
    public var initialBackoff: Duration
    /// The longest wait between attempts.
    public var maxBackoff: Duration
    /// Growth of the wait per attempt.
    public var multiplier: Double
    /// Whether each wait is randomised to between half and all of its value (spreads retries out).
    public var jitter: Bool
    /// The error kinds that are retried; others fail the node at once.
    public var retryOn: Set<NodeErrorKind>

    /// The default: 1 attempt (no retry); when attempts are raised, unavailable, timeout and rate-limited
    /// errors retry after 200 ms, doubling up to 5 s, with jitter.
    public init(
        maxAttempts: Int = 1, initialBackoff: Duration = .milliseconds(200), maxBackoff: Duration = .seconds(5),
        multiplier: Double = 2, jitter: Bool = true,
        retryOn: Set<NodeErrorKind> = [.unavailable, .timeout, .rateLimited]
    ) {
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.multiplier = multiplier
        self.jitter = jitter
        self.retryOn = retryOn
    }

    /// The wait after failed attempt number `attempt` (1-based).
    func backoff(after attempt: Int) -> Duration {
        let base = initialBackoff * pow(multiplier, Double(attempt - 1))
        let capped = min(base, maxBackoff)
        guard jitter else { return capped }
        return capped * Double.random(in: 0.5...1.0)
    }
}

private func pow(_ base: Double, _ exponent: Double) -> Double {
    var result = 1.0
    for _ in 0..<Int(exponent) { result *= base }
    return result
}
