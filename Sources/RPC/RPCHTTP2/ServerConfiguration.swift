/// How a gRPC server listens and what it allows. Every limit has a default here; services read
/// them from their configuration keys (docs/CONFIGURATION.md, "Server limits").
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
    /// Connections served at once; a connection past it gets GOAWAY (ENHANCE_YOUR_CALM) and is
    /// closed.
    public var maximumConnections: Int = 4096
    /// A connection with no open call for this long (from its start, or since its last call
    /// ended) gets GOAWAY and is closed; nil never.
    public var idleTimeout: Duration? = .seconds(300)
    /// Request bytes one connection may hold in buffers at once (partial and unread messages of
    /// all its calls); a call that would pass it ends with RESOURCE_EXHAUSTED.
    public var maximumBufferedRequestBytes: Int = 32 << 20
    /// The request header list a call may send (names + values + 32 bytes per field, as
    /// HTTP/2's SETTINGS_MAX_HEADER_LIST_SIZE counts); the stream is reset as soon as it is passed.
    public var maximumHeaderListSize: Int = 16 << 10
    /// The longest `grpc-message` sent, in bytes after percent-encoding; longer ones are cut and
    /// end in `...`.
    public var maximumStatusMessageSize: Int = 1024
    /// The response metadata (headers or trailers) a handler may add, in bytes counted as above;
    /// past it the handler's own fields are dropped and only the status is sent.
    public var maximumResponseMetadataSize: Int = 8 << 10

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
