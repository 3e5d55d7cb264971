import Synchronization

/// What a handler knows about the call it serves: who called, with what metadata, until when.
public struct ServerContext: Sendable {
    /// The method being called.
    public let descriptor: MethodDescriptor
    /// The request's custom metadata (and `user-agent`, `:authority` as `authority`).
    public let metadata: Metadata
    /// When the caller stops waiting, if it said (`grpc-timeout`).
    public let deadline: ContinuousClock.Instant?
    /// The caller's address, e.g. `ipv4:127.0.0.1:53412`.
    public let peer: String
    /// Where the handler puts metadata for the response headers and trailers.
    public let response: ResponseMetadata

    /// A context; transports create one per call.
    public init(
        descriptor: MethodDescriptor, metadata: Metadata, deadline: ContinuousClock.Instant?, peer: String,
        response: ResponseMetadata = ResponseMetadata()
    ) {
        self.descriptor = descriptor
        self.metadata = metadata
        self.deadline = deadline
        self.peer = peer
        self.response = response
    }

    /// Time left before the deadline, if there is one.
    public var timeRemaining: Duration? {
        deadline.map { $0 - ContinuousClock.now }
    }

    /// The context of the call the current task serves, so that outbound calls made while
    /// serving it inherit its deadline.
    @TaskLocal public static var current: ServerContext?
}

/// Metadata a handler attaches to its response: headers go out before the first message,
/// trailers with the status.
public final class ResponseMetadata: Sendable {
    private struct State {
        var headers = Metadata()
        var trailers = Metadata()
    }

    private let state = Mutex(State())

    /// Empty response metadata.
    public init() {}

    /// Metadata for the response headers; set before the first response message is written.
    public var headers: Metadata {
        get { state.withLock { $0.headers } }
        set { state.withLock { $0.headers = newValue } }
    }

    /// Metadata for the trailers, sent with the status.
    public var trailers: Metadata {
        get { state.withLock { $0.trailers } }
        set { state.withLock { $0.trailers = newValue } }
    }
}
