/// How a gRPC server listens and what it allows.
public struct ServerConfiguration: Sendable {
    /// The address to bind, e.g. `127.0.0.1` or `0.0.0.0`.
    public var host: String
    /// The port; 0 picks a free one (see `GRPCServer.port`).
    public var port: Int
    /// The largest request message accepted; larger ones end the call with RESOURCE_EXHAUSTED.
    public var maximumReceiveMessageSize: Int
    /// Streams a client may have open at once on one connection.
    public var maximumConcurrentStreams: UInt32
    /// Idle time after which the server pings a connection to check it is alive; nil never.
    public var keepaliveInterval: Duration?
    /// How long to wait for the PING's acknowledgement before closing the connection.
    public var keepaliveTimeout: Duration
    /// Event loop threads; nil means one per core.
    public var threads: Int?
    /// The longest deadline a call may ask for (`grpc-timeout`); longer ones are shortened to it.
    public var maximumTimeout: Duration = .seconds(24 * 3600)

    /// A configuration with the usual defaults: 4 MiB messages, 1000 streams, pings after
    /// two hours of silence (as gRPC's defaults), one thread per core.
    public init(
        host: String = "127.0.0.1", port: Int = 0, maximumReceiveMessageSize: Int = 4 << 20,
        maximumConcurrentStreams: UInt32 = 1000, keepaliveInterval: Duration? = .seconds(7200),
        keepaliveTimeout: Duration = .seconds(20), threads: Int? = nil
    ) {
        self.host = host
        self.port = port
        self.maximumReceiveMessageSize = maximumReceiveMessageSize
        self.maximumConcurrentStreams = maximumConcurrentStreams
        self.keepaliveInterval = keepaliveInterval
        self.keepaliveTimeout = keepaliveTimeout
        self.threads = threads
    }
}
