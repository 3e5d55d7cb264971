public import RuntimeConfig
import RuntimeHTTP

/// The edge's configuration: where it listens, the services it forwards to, and its limits
/// (docs/EDGE.md lists every key with its default).
public struct EdgeConfiguration: Sendable {
    /// The address to listen on (`HOST`, default 0.0.0.0).
    public var host: String
    /// The public HTTP port (`PORT`; 0 picks a free one).
    public var port: Int
    /// The admin port's address (`ADMIN_HOST`, default `HOST`).
    public var adminHost: String
    /// The admin port: /metrics, /healthz, /readyz (`ADMIN_PORT`).
    public var adminPort: Int
    /// The platform's signing secret (`JWT_SECRET`): the edge mints its own service identity with it.
    public var jwtSecret: Secret
    /// The services' addresses (`CONTROL_ADDR`, `EXECUTION_ADDR`, …); a route whose service is
    /// not configured answers 503.
    public var peers: [PeerService: [String]]
    /// How much it logs (`LOG_LEVEL`).
    public var logLevel: LogLevel
    /// How long a graceful shutdown waits for requests in flight (`SHUTDOWN_GRACE`, 10 s).
    public var shutdownGrace: Duration
    /// Event loop threads (`EVENT_LOOP_THREADS`, 1; 1–256).
    public var eventLoopThreads: Int
    /// The web console's built files (`WEB_ROOT`, default `web/dist` under the working directory).
    public var webRoot: String
    /// Origins allowed to call the API from a browser (`EDGE_CORS_ORIGINS`; none: CORS off).
    public var corsOrigins: [String]
    /// Proxies in front of the edge (a load balancer, an ingress) whose `X-Forwarded-For` is
    /// believed for the client's address (`EDGE_TRUSTED_PROXIES`, IP addresses; none by default).
    public var trustedProxies: [String] = []
    /// The TLS certificate chain, PEM (`TLS_CERT_FILE`); with `tlsKeyFile` the port speaks HTTPS,
    /// HTTP/2 or HTTP/1.1 by ALPN. Neither set: cleartext HTTP/1.1.
    public var tlsCertificateFile: String?
    /// The certificate's private key, PEM (`TLS_KEY_FILE`).
    public var tlsKeyFile: String?
    /// The limits.
    public var limits: EdgeLimits

    /// Reads the edge's keys with `reader` (problems are recorded in it, not thrown).
    public static func load(reader: inout ConfigReader) -> EdgeConfiguration {
        let host = reader.string("HOST", default: "0.0.0.0")
        let port = reader.port("PORT", allowZero: true)
        let adminHost = reader.string("ADMIN_HOST", default: host)
        let adminPort = reader.port("ADMIN_PORT", allowZero: true)
        let jwtSecret = reader.secret("JWT_SECRET", required: true) ?? Secret("")
        if jwtSecret.byteCount > 0, jwtSecret.byteCount < ServiceConfiguration.minimumJWTSecretBytes {
            reader.recordProblem(
                "JWT_SECRET",
                "JWT_SECRET is too short: it must be at least \(ServiceConfiguration.minimumJWTSecretBytes) bytes")
        }
        var peers: [PeerService: [String]] = [:]
        for peer in PeerService.allCases {
            if let addresses = reader.addresses(peer.environmentKey) { peers[peer] = addresses }
        }
        let proxies = reader.list("EDGE_TRUSTED_PROXIES")
        for proxy in proxies where IPAddress(proxy) == nil {
            reader.recordProblem(
                "EDGE_TRUSTED_PROXIES", "EDGE_TRUSTED_PROXIES \"\(proxy.prefix(100))\" is not an IP address")
        }
        var configuration = EdgeConfiguration(
            host: host, port: port, adminHost: adminHost, adminPort: adminPort, jwtSecret: jwtSecret, peers: peers,
            logLevel: reader.choice("LOG_LEVEL", default: LogLevel.info),
            shutdownGrace: reader.duration("SHUTDOWN_GRACE", default: .seconds(10)),
            eventLoopThreads: reader.int("EVENT_LOOP_THREADS", default: 1, range: 1...256),
            webRoot: reader.string("WEB_ROOT", default: "web/dist"),
            corsOrigins: reader.list("EDGE_CORS_ORIGINS"),
            limits: EdgeLimits.load(reader: &reader))
        configuration.trustedProxies = proxies
        let certificate = reader.string("TLS_CERT_FILE")
        let key = reader.string("TLS_KEY_FILE")
        if (certificate == nil) != (key == nil) {
            reader.recordProblem(
                certificate == nil ? "TLS_CERT_FILE" : "TLS_KEY_FILE",
                "TLS_CERT_FILE and TLS_KEY_FILE go together: set both for HTTPS, or neither")
        }
        configuration.tlsCertificateFile = certificate
        configuration.tlsKeyFile = key
        return configuration
    }
}

/// The edge's limits, each a key with a default (docs/EDGE.md).
public struct EdgeLimits: Sendable, Hashable {
    /// The largest JSON request body (`EDGE_MAX_BODY_BYTES`, 1 MiB; 1 KiB–64 MiB): 413 past it.
    public var maximumBodyBytes = 1 << 20
    /// The largest document upload (`EDGE_MAX_UPLOAD_BYTES`, 64 MiB; 1 KiB–4 GiB), streamed to the service.
    public var maximumUploadBytes = 64 << 20
    /// The largest request head: request line and headers (`EDGE_MAX_HEADER_BYTES`, 16 KiB;
    /// 1–64 KiB): 431 past it.
    public var maximumHeaderBytes = 16 << 10
    /// Open client connections at once (`EDGE_MAX_CONNECTIONS`, 1024; 1–1,000,000); more are closed at once.
    public var maximumConnections = 1024
    /// How long a connection may wait between requests (`EDGE_IDLE_TIMEOUT`, 60 s; 1 s–1 h).
    public var idleTimeout: Duration = .seconds(60)
    /// How long a client may take to send a request's head and body once it has started
    /// (`EDGE_REQUEST_TIMEOUT`, 30 s; 1 s–1 h): a slow client is cut off with 408.
    public var requestTimeout: Duration = .seconds(30)
    /// The deadline of a forwarded call that is not a stream (`EDGE_CALL_TIMEOUT`, 30 s; 1 s–10 min).
    public var callTimeout: Duration = .seconds(30)
    /// The deadline of a forwarded stream, e.g. a run's events (`EDGE_STREAM_TIMEOUT`, 15 min; 1 s–24 h).
    public var streamTimeout: Duration = .seconds(900)
    /// Open event streams per tenant (`EDGE_MAX_SSE_STREAMS_PER_TENANT`, 64; 1–100,000): 429 past it.
    public var maximumStreamsPerTenant = 64
    /// How often an idle event stream gets a comment line, so dead clients are noticed
    /// (`EDGE_SSE_HEARTBEAT`, 15 s; 1 s–10 min).
    public var heartbeatInterval: Duration = .seconds(15)
    /// The deepest JSON nesting accepted in a request (`EDGE_JSON_MAX_DEPTH`, 64; 4–512).
    public var maximumJSONDepth = 64
    /// Requests one HTTP/2 connection may have open at once (`EDGE_MAX_STREAMS_PER_CONNECTION`,
    /// 100; 1–1000), announced in SETTINGS; nghttp2 refuses streams past it.
    public var maximumStreamsPerConnection = 100

    /// The defaults.
    public init() {}

    /// Reads the `EDGE_*` limit keys.
    public static func load(reader: inout ConfigReader) -> EdgeLimits {
        var limits = EdgeLimits()
        limits.maximumBodyBytes = reader.int(
            "EDGE_MAX_BODY_BYTES", default: limits.maximumBodyBytes, range: 1024...(64 << 20))
        limits.maximumUploadBytes = reader.int(
            "EDGE_MAX_UPLOAD_BYTES", default: limits.maximumUploadBytes, range: 1024...(4 << 30))
        limits.maximumHeaderBytes = reader.int(
            "EDGE_MAX_HEADER_BYTES", default: limits.maximumHeaderBytes, range: 1024...(64 << 10))
        limits.maximumConnections = reader.int(
            "EDGE_MAX_CONNECTIONS", default: limits.maximumConnections, range: 1...1_000_000)
        limits.idleTimeout = duration(&reader, "EDGE_IDLE_TIMEOUT", limits.idleTimeout, .seconds(1)...(.seconds(3600)))
        limits.requestTimeout = duration(
            &reader, "EDGE_REQUEST_TIMEOUT", limits.requestTimeout, .seconds(1)...(.seconds(3600)))
        limits.callTimeout = duration(&reader, "EDGE_CALL_TIMEOUT", limits.callTimeout, .seconds(1)...(.seconds(600)))
        limits.streamTimeout = duration(
            &reader, "EDGE_STREAM_TIMEOUT", limits.streamTimeout, .seconds(1)...(.seconds(86_400)))
        limits.maximumStreamsPerTenant = reader.int(
            "EDGE_MAX_SSE_STREAMS_PER_TENANT", default: limits.maximumStreamsPerTenant, range: 1...100_000)
        limits.heartbeatInterval = duration(
            &reader, "EDGE_SSE_HEARTBEAT", limits.heartbeatInterval, .seconds(1)...(.seconds(600)))
        limits.maximumJSONDepth = reader.int("EDGE_JSON_MAX_DEPTH", default: limits.maximumJSONDepth, range: 4...512)
        limits.maximumStreamsPerConnection = reader.int(
            "EDGE_MAX_STREAMS_PER_CONNECTION", default: limits.maximumStreamsPerConnection, range: 1...1000)
        return limits
    }

    private static func duration(
        _ reader: inout ConfigReader, _ key: String, _ defaultValue: Duration, _ range: ClosedRange<Duration>
    ) -> Duration {
        let value = reader.duration(key, default: defaultValue)
        guard range.contains(value) else {
            reader.recordProblem(key, "\(key) is outside \(range.lowerBound)–\(range.upperBound)")
            return defaultValue
        }
        return value
    }
}
