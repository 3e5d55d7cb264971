/// The keys every service accepts, read and checked the same way everywhere so operators and
/// tools start any service alike. See docs/CONFIGURATION.md.
///
/// Printing it (`description`, `dump`) never shows a secret: the JWT key and the secret-box keys
/// are `Secret`s and passwords in the database and Redis URLs are masked.
public struct ServiceConfiguration: Sendable, CustomStringConvertible, CustomReflectable {
    /// The executable's name, e.g. `kb-search`.
    public var service: String
    /// The address the servers bind (`HOST`, default `0.0.0.0`).
    public var host: String
    /// The gRPC port (`PORT` or `--port`; 0 picks a free port).
    public var port: Int
    /// The HTTP admin port for health and metrics (`ADMIN_PORT`; 0 picks a free port).
    public var adminPort: Int
    /// The address the admin port binds (`ADMIN_HOST`, default `HOST`'s value).
    public var adminHost: String
    /// How long an admin connection may send nothing before it is closed (`ADMIN_IDLE_TIMEOUT`).
    public var adminIdleTimeout: Duration = .seconds(60)
    /// How many verified bearer tokens a service remembers (`AUTH_TOKEN_CACHE_ENTRIES`); 0 none.
    public var tokenCacheEntries = 4096
    /// The event loop threads of the process (`EVENT_LOOP_THREADS`, default 1): its gRPC server and
    /// its clients to peers share them, so a handler's calls to other services stay on its thread.
    public var eventLoopThreads = 1
    /// What the gRPC server allows a client (the `GRPC_*` keys; docs/CONFIGURATION.md).
    public var serverLimits = ServerLimits()
    /// The PostgreSQL connection string, a URI or libpq `key=value` pairs (`DATABASE_URL`).
    public var databaseURL: String
    /// Where Redis is (`REDIS_URL`), parsed.
    public var redis: RedisURL
    /// The platform's token signing key (`JWT_SECRET` or `JWT_SECRET_FILE`), at least 32 bytes.
    public var jwtSecret: Secret
    /// The secret box's keyring (`SECRET_BOX_KEYS` or `_FILE`); the first key seals. Empty when
    /// not configured: then calls that need it fail with FAILED_PRECONDITION naming the key.
    public var secretBoxKeyring: [SecretBoxKey]
    /// Each configured peer's `host:port` replicas (`CONTROL_ADDR` ...). A peer that is absent is
    /// not configured: calls to it fail with UNAVAILABLE.
    public var peers: [PeerService: [String]]
    /// How much to log (`LOG_LEVEL`, default `info`).
    public var logLevel: LogLevel
    /// Hosts that outbound calls may reach over plain http or at private addresses
    /// (`OUTBOUND_ALLOW_HOSTS`, default none).
    public var outboundAllowHosts: [String]
    /// How long shutdown waits for calls in flight (`SHUTDOWN_GRACE`, default 10s).
    public var shutdownGrace: Duration
    /// How long start-up waits for PostgreSQL and Redis to accept connections (`STARTUP_TIMEOUT`,
    /// default 60s), so services can start alongside their databases.
    public var startupTimeout: Duration

    /// The shortest `JWT_SECRET` accepted, in bytes (HS256 wants a key as long as its hash).
    public static let minimumJWTSecretBytes = 32

    /// A configuration from its parts.
    public init(
        service: String, host: String = "0.0.0.0", port: Int, adminPort: Int, databaseURL: String, redis: RedisURL,
        jwtSecret: Secret, secretBoxKeyring: [SecretBoxKey] = [], peers: [PeerService: [String]] = [:],
        logLevel: LogLevel = .info, outboundAllowHosts: [String] = [], shutdownGrace: Duration = .seconds(10),
        startupTimeout: Duration = .seconds(60)
    ) {
        self.service = service
        self.host = host
        self.port = port
        self.adminPort = adminPort
        self.adminHost = host
        self.databaseURL = databaseURL
        self.redis = redis
        self.jwtSecret = jwtSecret
        self.secretBoxKeyring = secretBoxKeyring
        self.peers = peers
        self.logLevel = logLevel
        self.outboundAllowHosts = outboundAllowHosts
        self.shutdownGrace = shutdownGrace
        self.startupTimeout = startupTimeout
    }

    /// `REDIS_URL` for a client library, password included: do not log it.
    public var redisURL: String { redis.revealedURL }

    /// The keyring as `(id, key)` pairs, first (sealing) key first; nil when `SECRET_BOX_KEYS` is
    /// not configured.
    public var secretBoxKeys: [(id: String, key: [UInt8])]? {
        secretBoxKeyring.isEmpty ? nil : secretBoxKeyring.map { ($0.id, $0.key.revealBytes()) }
    }

    /// Reads the common keys with `reader`, recording every problem there. The service then reads
    /// its own keys with the same reader and calls `reader.validate()`, so all problems appear in
    /// one message. Bad or missing keys leave placeholder values that must not be used unless
    /// `validate()` passes.
    public static func load(service: String, reader: inout ConfigReader) -> ServiceConfiguration {
        let host = reader.string("HOST", default: "0.0.0.0")
        let port = reader.port("PORT", allowZero: true)
        let adminPort = reader.port("ADMIN_PORT", allowZero: true)

        let databaseURL = reader.requiredString("DATABASE_URL")
        if !databaseURL.isEmpty, let problem = DatabaseURL.problem(with: databaseURL) {
            reader.recordProblem(
                "DATABASE_URL", "DATABASE_URL \(ConfigValueFormats.display(databaseURL)) \(problem)")
        }

        // A placeholder stands in for a bad or missing value until `validate()` reports it.
        var redis = RedisURL(host: "127.0.0.1")
        let redisText = reader.requiredString("REDIS_URL")
        if !redisText.isEmpty {
            do {
                redis = try RedisURL(parsing: redisText)
            } catch {
                reader.recordProblem("REDIS_URL", "REDIS_URL \(ConfigValueFormats.display(redisText)) \(error.reason)")
            }
        }

        let jwtSecret = reader.secret("JWT_SECRET", required: true) ?? Secret("")
        if jwtSecret.byteCount > 0, jwtSecret.byteCount < minimumJWTSecretBytes {
            reader.recordProblem(
                "JWT_SECRET", "JWT_SECRET is too short: it must be at least \(minimumJWTSecretBytes) bytes")
        }

        let secretBoxKeyring = reader.secretBoxKeys("SECRET_BOX_KEYS")
        var peers: [PeerService: [String]] = [:]
        for peer in PeerService.allCases {
            if let addresses = reader.addresses(peer.environmentKey) { peers[peer] = addresses }
        }
        let logLevel = reader.choice("LOG_LEVEL", default: LogLevel.info)
        let outboundAllowHosts = reader.list("OUTBOUND_ALLOW_HOSTS")
        let shutdownGrace = reader.duration("SHUTDOWN_GRACE", default: .seconds(10))
        let startupTimeout = reader.duration("STARTUP_TIMEOUT", default: .seconds(60))
        var configuration = ServiceConfiguration(
            service: service, host: host, port: port, adminPort: adminPort, databaseURL: databaseURL,
            redis: redis, jwtSecret: jwtSecret,
            secretBoxKeyring: secretBoxKeyring, peers: peers, logLevel: logLevel,
            outboundAllowHosts: outboundAllowHosts, shutdownGrace: shutdownGrace, startupTimeout: startupTimeout)
        configuration.adminHost = reader.string("ADMIN_HOST", default: host)
        configuration.adminIdleTimeout = reader.duration("ADMIN_IDLE_TIMEOUT", default: .seconds(60))
        configuration.serverLimits = ServerLimits.load(reader: &reader)
        configuration.tokenCacheEntries = reader.int("AUTH_TOKEN_CACHE_ENTRIES", default: 4096, range: 0...1_000_000)
        configuration.eventLoopThreads = reader.int("EVENT_LOOP_THREADS", default: 1, range: 1...256)
        return configuration
    }

    /// Reads and validates the common keys alone, for a service with no keys of its own.
    public static func load(
        service: String, environment: [String: String], arguments: [String]
    ) throws(ConfigurationError) -> ServiceConfiguration {
        var reader = ConfigReader(environment: environment, arguments: arguments)
        let configuration = load(service: service, reader: &reader)
        try reader.validate()
        return configuration
    }

    /// A peer's addresses, or nil when it is not configured.
    public func addresses(of peer: PeerService) -> [String]? {
        peers[peer]
    }

    /// The keys and values, secrets redacted and passwords masked.
    public var description: String {
        let shownPeers = PeerService.allCases.compactMap { peer in
            peers[peer].map { "\(peer.environmentKey)=\($0.joined(separator: ","))" }
        }
        let keyring = secretBoxKeyring.isEmpty ? "(unset)" : secretBoxKeyring.map(\.description).joined(separator: ",")
        let fields = [
            "HOST=\(host)", "PORT=\(port)", "ADMIN_HOST=\(adminHost)", "ADMIN_PORT=\(adminPort)",
            "DATABASE_URL=\(ConfigValueFormats.redactingCredentials(databaseURL))", "REDIS_URL=\(redis)",
            "JWT_SECRET=\(jwtSecret)", "SECRET_BOX_KEYS=\(keyring)",
        ]
        let rest = [
            "LOG_LEVEL=\(logLevel)", "OUTBOUND_ALLOW_HOSTS=\(outboundAllowHosts.joined(separator: ","))",
            "SHUTDOWN_GRACE=\(shutdownGrace)", "STARTUP_TIMEOUT=\(startupTimeout)",
        ]
        return "\(service): " + (fields + shownPeers + rest).joined(separator: " ")
    }

    /// The same fields as `description`, so `dump` cannot reach an unmasked password.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "service": service, "host": host, "port": port, "adminHost": adminHost, "adminPort": adminPort,
                "databaseURL": ConfigValueFormats.redactingCredentials(databaseURL), "redis": redis.description,
                "jwtSecret": jwtSecret, "secretBoxKeyring": secretBoxKeyring.map(\.description),
                "peers": peers.mapKeys(\.environmentKey), "logLevel": logLevel,
                "outboundAllowHosts": outboundAllowHosts, "shutdownGrace": shutdownGrace,
                "startupTimeout": startupTimeout,
            ], displayStyle: .struct)
    }
}

extension Dictionary {
    /// The dictionary with its keys transformed (keys must stay distinct).
    fileprivate func mapKeys<NewKey: Hashable>(_ transform: (Key) -> NewKey) -> [NewKey: Value] {
        [NewKey: Value](uniqueKeysWithValues: map { (transform($0.key), $0.value) })
    }
}
