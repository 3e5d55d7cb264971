public import RuntimeConfig

/// The notification service's own configuration keys (see docs/NOTIFICATION.md).
public struct NotificationSettings: Sendable, Equatable {
    /// Attempts per delivery before it is marked failed (`NOTIFICATION_MAX_ATTEMPTS`).
    public var maxAttempts: Int
    /// Wait after the first failed attempt; doubled after each further one (`NOTIFICATION_BACKOFF_BASE`).
    public var backoffBase: Duration
    /// The longest wait between attempts (`NOTIFICATION_BACKOFF_MAX`).
    public var backoffMax: Duration
    /// The longest `Retry-After` honoured (`NOTIFICATION_RETRY_AFTER_MAX`).
    public var retryAfterMax: Duration
    /// How often an idle dispatcher looks for due deliveries (`NOTIFICATION_POLL_INTERVAL`).
    public var pollInterval: Duration
    /// Attempts one replica runs at the same time (`NOTIFICATION_DISPATCH_CONCURRENCY`).
    public var dispatchConcurrency: Int
    /// Attempts of one tenant in flight at the same time, all replicas together
    /// (`NOTIFICATION_TENANT_CONCURRENCY`).
    public var tenantConcurrency: Int
    /// How long a dispatcher's claim on a delivery lasts; a crashed dispatcher's claims are
    /// retried after it (`NOTIFICATION_CLAIM_LEASE`). Longer than `httpTimeout`.
    public var claimLease: Duration
    /// Time limit of one HTTP attempt (`NOTIFICATION_HTTP_TIMEOUT`).
    public var httpTimeout: Duration
    /// Notifications a tenant may send per minute; 0 for no limit (`NOTIFICATION_RATE_LIMIT`).
    public var rateLimitPerMinute: Int
    /// How long finished deliveries are kept; zero keeps them forever (`NOTIFICATION_RETENTION`).
    public var retention: Duration

    /// Settings; the defaults spread 8 attempts over about an hour.
    public init(
        maxAttempts: Int = 8, backoffBase: Duration = .seconds(30), backoffMax: Duration = .seconds(1800),
        retryAfterMax: Duration = .seconds(3600), pollInterval: Duration = .seconds(1), dispatchConcurrency: Int = 16,
        tenantConcurrency: Int = 4, claimLease: Duration = .seconds(30), httpTimeout: Duration = .seconds(10),
        rateLimitPerMinute: Int = 600, retention: Duration = .seconds(30 * 86_400)
    ) {
        self.maxAttempts = maxAttempts
        self.backoffBase = backoffBase
        self.backoffMax = backoffMax
        self.retryAfterMax = retryAfterMax
        self.pollInterval = pollInterval
        self.dispatchConcurrency = dispatchConcurrency
        self.tenantConcurrency = tenantConcurrency
        self.claimLease = claimLease
        self.httpTimeout = httpTimeout
        self.rateLimitPerMinute = rateLimitPerMinute
        self.retention = retention
    }

    /// Reads the keys, recording every bad value with the common ones.
    public static func read(_ reader: inout ConfigReader) -> NotificationSettings {
        let defaults = NotificationSettings()
        var settings = NotificationSettings(
            maxAttempts: reader.int("NOTIFICATION_MAX_ATTEMPTS", default: defaults.maxAttempts, range: 1...100),
            backoffBase: reader.duration("NOTIFICATION_BACKOFF_BASE", default: defaults.backoffBase),
            backoffMax: reader.duration("NOTIFICATION_BACKOFF_MAX", default: defaults.backoffMax),
            retryAfterMax: reader.duration("NOTIFICATION_RETRY_AFTER_MAX", default: defaults.retryAfterMax),
            pollInterval: reader.duration("NOTIFICATION_POLL_INTERVAL", default: defaults.pollInterval),
            // An attempt in flight holds no database connection, only a socket and its task.
            dispatchConcurrency: reader.int(
                "NOTIFICATION_DISPATCH_CONCURRENCY", default: defaults.dispatchConcurrency, range: 1...1000),
            tenantConcurrency: reader.int(
                "NOTIFICATION_TENANT_CONCURRENCY", default: defaults.tenantConcurrency, range: 1...1000),
            claimLease: reader.duration("NOTIFICATION_CLAIM_LEASE", default: defaults.claimLease),
            httpTimeout: reader.duration("NOTIFICATION_HTTP_TIMEOUT", default: defaults.httpTimeout),
            rateLimitPerMinute: reader.int(
                "NOTIFICATION_RATE_LIMIT", default: defaults.rateLimitPerMinute, range: 0...1_000_000),
            retention: reader.duration("NOTIFICATION_RETENTION", default: defaults.retention))
        for (key, value) in [
            ("NOTIFICATION_BACKOFF_BASE", settings.backoffBase), ("NOTIFICATION_POLL_INTERVAL", settings.pollInterval),
            ("NOTIFICATION_HTTP_TIMEOUT", settings.httpTimeout),
        ] where value <= .zero {
            reader.recordProblem(key, "\(key) must be longer than 0")
        }
        if settings.claimLease <= settings.httpTimeout {
            reader.recordProblem(
                "NOTIFICATION_CLAIM_LEASE",
                "NOTIFICATION_CLAIM_LEASE must be longer than NOTIFICATION_HTTP_TIMEOUT (an attempt ends within its claim)"
            )
        }
        if settings.backoffMax < settings.backoffBase {
            reader.recordProblem(
                "NOTIFICATION_BACKOFF_MAX",
                "NOTIFICATION_BACKOFF_MAX must not be shorter than NOTIFICATION_BACKOFF_BASE")
            settings.backoffMax = settings.backoffBase
        }
        return settings
    }
}
