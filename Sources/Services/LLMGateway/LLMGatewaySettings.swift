public import RuntimeConfig

/// The gateway's own configuration keys (see docs/CONFIGURATION.md, "LLM gateway").
public struct LLMGatewaySettings: Sendable, Equatable {
    /// Requests per minute per tenant when its configuration leaves the limit at zero.
    public var defaultRequestsPerMinute: Int
    /// Tokens per minute per tenant when its configuration leaves the limit at zero.
    public var defaultTokensPerMinute: Int
    /// Tokens per UTC day per tenant when its configuration leaves the limit at zero; 0: no daily limit.
    public var defaultTokensPerDay: Int
    /// How many times a failed provider call is retried (429, 5xx, connection errors).
    public var maximumRetries: Int
    /// The first retry's delay; each further retry doubles it (with jitter).
    public var retryBaseDelay: Duration
    /// The longest single wait between retries, also the cap on an honoured Retry-After.
    public var retryMaximumDelay: Duration
    /// How long a tenant's provider configuration is used before it is read again (0: every call).
    public var providerConfigCacheTTL: Duration = .seconds(1)
    /// How often usage counters are written (0: on every call, in the call).
    public var usageFlushInterval: Duration = .seconds(1)

    /// The longest `LLM_PROVIDER_CONFIG_CACHE_TTL` and `LLM_USAGE_FLUSH_INTERVAL`.
    public static let maximumCacheTTL: Duration = .seconds(60)

    /// Settings with the documented defaults.
    public init(
        defaultRequestsPerMinute: Int = 600, defaultTokensPerMinute: Int = 1_000_000, defaultTokensPerDay: Int = 0,
        maximumRetries: Int = 2, retryBaseDelay: Duration = .milliseconds(250),
        retryMaximumDelay: Duration = .seconds(10)
    ) {
        self.defaultRequestsPerMinute = defaultRequestsPerMinute
        self.defaultTokensPerMinute = defaultTokensPerMinute
        self.defaultTokensPerDay = defaultTokensPerDay
        self.maximumRetries = maximumRetries
        self.retryBaseDelay = retryBaseDelay
        self.retryMaximumDelay = retryMaximumDelay
    }

    /// Reads the `LLM_*` keys, recording every bad value in `reader`.
    public static func read(from reader: inout ConfigReader) -> LLMGatewaySettings {
        var settings = LLMGatewaySettings(
            defaultRequestsPerMinute: reader.int("LLM_DEFAULT_REQUESTS_PER_MINUTE", default: 600, range: 1...1_000_000),
            defaultTokensPerMinute: reader.int(
                "LLM_DEFAULT_TOKENS_PER_MINUTE", default: 1_000_000, range: 1...1_000_000_000),
            defaultTokensPerDay: reader.int("LLM_DEFAULT_TOKENS_PER_DAY", default: 0, range: 0...1_000_000_000_000),
            maximumRetries: reader.int("LLM_MAX_RETRIES", default: 2, range: 0...10),
            retryBaseDelay: reader.duration("LLM_RETRY_BASE_DELAY", default: .milliseconds(250)),
            retryMaximumDelay: reader.duration("LLM_RETRY_MAX_DELAY", default: .seconds(10)))
        if settings.retryBaseDelay <= .zero || settings.retryBaseDelay > settings.retryMaximumDelay {
            reader.recordProblem(
                "LLM_RETRY_BASE_DELAY", "LLM_RETRY_BASE_DELAY must be positive and not above LLM_RETRY_MAX_DELAY")
        }
        settings.providerConfigCacheTTL = reader.duration("LLM_PROVIDER_CONFIG_CACHE_TTL", default: .seconds(1))
        settings.usageFlushInterval = reader.duration("LLM_USAGE_FLUSH_INTERVAL", default: .seconds(1))
        for (key, value) in [
            ("LLM_PROVIDER_CONFIG_CACHE_TTL", settings.providerConfigCacheTTL),
            ("LLM_USAGE_FLUSH_INTERVAL", settings.usageFlushInterval),
        ] where value > maximumCacheTTL {
            reader.recordProblem(key, "\(key) must be at most 60s")
        }
        return settings
    }
}
