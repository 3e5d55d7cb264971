/// What a service's gRPC server allows one client: the `GRPC_*` keys, each with a documented
/// default (docs/CONFIGURATION.md, "Server limits"; docs/SECURITY.md says what each defends).
public struct ServerLimits: Sendable, Equatable {
    /// Connections served at once (`GRPC_MAX_CONNECTIONS`).
    public var maximumConnections = 4096
    /// A connection with no open call for this long is closed (`GRPC_IDLE_TIMEOUT`; 0 never).
    public var idleTimeout: Duration = .seconds(300)
    /// Calls one connection may have open at once (`GRPC_MAX_CONCURRENT_STREAMS`).
    public var maximumConcurrentStreams = 1000
    /// Request bytes one connection may hold in buffers (`GRPC_MAX_CONNECTION_BUFFER_BYTES`).
    public var maximumBufferedRequestBytes = 32 << 20
    /// The largest request message (`GRPC_MAX_RECEIVE_MESSAGE_BYTES`).
    public var maximumReceiveMessageSize = 4 << 20
    /// The request header list of one call (`GRPC_MAX_HEADER_LIST_BYTES`).
    public var maximumHeaderListSize = 16 << 10
    /// The longest deadline a call may ask for (`GRPC_MAX_TIMEOUT`).
    public var maximumTimeout: Duration = .seconds(24 * 3600)
    /// The longest `grpc-message` sent (`GRPC_MAX_STATUS_MESSAGE_BYTES`).
    public var maximumStatusMessageSize = 1024

    /// The defaults.
    public init() {}

    /// Reads the keys, recording problems in `reader`.
    public static func load(reader: inout ConfigReader) -> ServerLimits {
        let defaults = ServerLimits()
        var limits = ServerLimits()
        limits.maximumConnections = reader.int(
            "GRPC_MAX_CONNECTIONS", default: defaults.maximumConnections, range: 1...1_000_000)
        limits.idleTimeout = reader.duration("GRPC_IDLE_TIMEOUT", default: defaults.idleTimeout)
        limits.maximumConcurrentStreams = reader.int(
            "GRPC_MAX_CONCURRENT_STREAMS", default: defaults.maximumConcurrentStreams, range: 1...100_000)
        limits.maximumBufferedRequestBytes = reader.int(
            "GRPC_MAX_CONNECTION_BUFFER_BYTES", default: defaults.maximumBufferedRequestBytes,
            range: 64 << 10...1 << 34)
        limits.maximumReceiveMessageSize = reader.int(
            "GRPC_MAX_RECEIVE_MESSAGE_BYTES", default: defaults.maximumReceiveMessageSize, range: 1024...1 << 30)
        limits.maximumHeaderListSize = reader.int(
            "GRPC_MAX_HEADER_LIST_BYTES", default: defaults.maximumHeaderListSize, range: 1024...1 << 20)
        limits.maximumTimeout = reader.duration("GRPC_MAX_TIMEOUT", default: defaults.maximumTimeout)
        if limits.maximumTimeout <= .zero {
            reader.recordProblem("GRPC_MAX_TIMEOUT", "GRPC_MAX_TIMEOUT must be above zero")
        }
        limits.maximumStatusMessageSize = reader.int(
            "GRPC_MAX_STATUS_MESSAGE_BYTES", default: defaults.maximumStatusMessageSize, range: 64...16 << 10)
        return limits
    }
}
