import Saturating

/// One server address a client connects to.
public struct Target: Sendable, Hashable, CustomStringConvertible {
    /// Host name or IP address.
    public var host: String
    /// TCP port.
    public var port: Int

    /// A target.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, as sent in `:authority`.
    public var description: String { "\(host):\(port)" }

    /// Parses `host:port`.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else { return nil }
        self.init(host: String(text[..<colon]), port: port)
    }
}

/// How a client connects, reconnects and what it accepts.
public struct ClientConfiguration: Sendable {
    /// The largest response message accepted; larger ones fail the call with RESOURCE_EXHAUSTED.
    public var maximumReceiveMessageSize: Int
    /// How long one connection attempt may take.
    public var connectTimeout: Duration
    /// The first delay before reconnecting to a target that failed.
    public var initialBackoff: Duration
    /// The longest delay between reconnection attempts.
    public var maximumBackoff: Duration
    /// Each further failure multiplies the delay by this much.
    public var backoffMultiplier: Double
    /// Idle time after which the client pings a connection; nil never.
    public var keepaliveInterval: Duration?
    /// How long to wait for a PING's acknowledgement before dropping the connection.
    public var keepaliveTimeout: Duration
    /// Event loop threads the client's connections use.
    public var threads: Int
    /// How often a target whose host is a name is resolved again, so replicas that come and go
    /// are picked up; nil resolves only at start and when none of the name's addresses answers.
    public var resolutionInterval: Duration?

    /// The defaults of gRPC's connection backoff spec (1 s, ×1.6, at most 120 s, ±20% jitter),
    /// 4 MiB messages, one thread, names resolved again every 30 s.
    public init(
        maximumReceiveMessageSize: Int = 4 << 20, connectTimeout: Duration = .seconds(20),
        initialBackoff: Duration = .seconds(1), maximumBackoff: Duration = .seconds(120),
        backoffMultiplier: Double = 1.6, keepaliveInterval: Duration? = nil, keepaliveTimeout: Duration = .seconds(20),
        threads: Int = 1, resolutionInterval: Duration? = .seconds(30)
    ) {
        self.maximumReceiveMessageSize = maximumReceiveMessageSize
        self.connectTimeout = connectTimeout
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.backoffMultiplier = backoffMultiplier
        self.keepaliveInterval = keepaliveInterval
        self.keepaliveTimeout = keepaliveTimeout
        self.threads = threads
        self.resolutionInterval = resolutionInterval
    }
}

extension Duration {
    /// The duration in nanoseconds (saturating), for NIO's `TimeAmount`.
    var nanoseconds: Int64 { saturatingNanoseconds }
}
