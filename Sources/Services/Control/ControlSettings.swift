public import RuntimeConfig
import RuntimeHTTP
import Saturating

/// The control plane's own configuration keys (see docs/CONFIGURATION.md).
public struct ControlSettings: Sendable {
    /// The platform token CreateTenant requires (`PLATFORM_BOOTSTRAP_TOKEN(_FILE)`); nil disables it.
    public var bootstrapToken: Secret?
    /// The first tenant, created at start-up when it does not exist (`BOOTSTRAP_TENANT_SLUG`).
    public var bootstrapTenantSlug: String?
    /// Its owner's email (`BOOTSTRAP_OWNER_EMAIL`).
    public var bootstrapOwnerEmail: String?
    /// Its owner's password (`BOOTSTRAP_OWNER_PASSWORD(_FILE)`).
    public var bootstrapOwnerPassword: Secret?
    /// Failed logins allowed per tenant and email within `loginWindow` (`LOGIN_MAX_FAILURES`).
    public var loginMaxFailures: Int
    /// Failed logins allowed per client address within `loginWindow`
    /// (`LOGIN_MAX_FAILURES_PER_ADDRESS`).
    public var loginMaxFailuresPerAddress: Int
    /// The window failed logins are counted in (`LOGIN_FAILURE_WINDOW`).
    public var loginWindow: Duration
    /// Lifetime of access tokens (`ACCESS_TOKEN_TTL`).
    public var accessTokenTTL: Duration
    /// Lifetime of refresh tokens and their session (`REFRESH_TOKEN_TTL`).
    public var refreshTokenTTL: Duration
    /// Largest document UploadDocument accepts, whatever a tenant's `max_document_bytes` says
    /// (`DOCUMENT_MAX_BYTES`).
    public var documentMaxBytes: Int = 20 << 20
    /// How long a conversation may stay RUNNING before its run reported an id; after that a
    /// SendMessage takes it for a run lost in a crash and releases it (`CONVERSATION_STALE_AFTER`).
    public var conversationStaleAfter: Duration = .seconds(120)
    /// How long a document may stay PROCESSING before the sweep takes its indexing for lost and
    /// starts it again (`DOCUMENT_INDEX_STALE_AFTER`).
    public var documentIndexStaleAfter: Duration = .seconds(600)
    /// How often conversations idle past their tenant's `conversation_retention` are deleted
    /// (`CONVERSATION_RETENTION_SWEEP_INTERVAL`).
    public var conversationRetentionSweepInterval: Duration = .seconds(600)
    /// scrypt computations one process runs at once (`PASSWORD_HASH_CONCURRENCY`).
    public var passwordHashConcurrency: Int = 4
    /// scrypt computations that may wait for a turn; past them RESOURCE_EXHAUSTED
    /// (`PASSWORD_HASH_QUEUE`).
    public var passwordHashQueue: Int = 16
    /// Failed refresh-token and API-key lookups allowed per client address within
    /// `credentialFailureWindow` (`CREDENTIAL_FAILURES_PER_ADDRESS`).
    public var credentialFailuresPerAddress: Int = 100
    /// The window failed credential lookups are counted in (`CREDENTIAL_FAILURE_WINDOW`).
    public var credentialFailureWindow: Duration = .seconds(60)
    /// Proxies whose `x-forwarded-for` names the client address for the per-address limits
    /// (`TRUSTED_PROXIES`, IP addresses; default none).
    public var trustedProxies: [String] = []
    /// Bytes of flow JSON whose tool references GetAgent keeps, so a run's tools are resolved
    /// without parsing its flow again (`CONTROL_FLOW_CACHE_BYTES`; 0: parse every time).
    public var flowCacheBytes: Int = 16 << 20

    /// Reads the keys, recording bad values in the reader so they are reported with the common ones.
    public static func read(_ reader: inout ConfigReader) -> ControlSettings {
        let token = reader.secret("PLATFORM_BOOTSTRAP_TOKEN", required: false)
        let slug = reader.string("BOOTSTRAP_TENANT_SLUG")
        let email = reader.string("BOOTSTRAP_OWNER_EMAIL")
        let password = reader.secret("BOOTSTRAP_OWNER_PASSWORD", required: slug != nil)
        if slug != nil, email == nil {
            reader.recordProblem(
                "BOOTSTRAP_OWNER_EMAIL", "BOOTSTRAP_TENANT_SLUG is set, so BOOTSTRAP_OWNER_EMAIL is needed")
        }
        if slug == nil, email != nil || password != nil {
            reader.recordProblem("BOOTSTRAP_TENANT_SLUG", "BOOTSTRAP_OWNER_* is set without BOOTSTRAP_TENANT_SLUG")
        }
        let failures = reader.int("LOGIN_MAX_FAILURES", default: 5, range: 1...1000)
        let perAddress = reader.int("LOGIN_MAX_FAILURES_PER_ADDRESS", default: 50, range: 1...1_000_000)
        let window = reader.duration("LOGIN_FAILURE_WINDOW", default: .seconds(900))
        let access = reader.duration("ACCESS_TOKEN_TTL", default: .seconds(900))
        let refresh = reader.duration("REFRESH_TOKEN_TTL", default: .seconds(30 * 24 * 3600))
        let documentMaxBytes = reader.int("DOCUMENT_MAX_BYTES", default: 20 << 20, range: 1024...(512 << 20))
        let conversationStale = reader.duration("CONVERSATION_STALE_AFTER", default: .seconds(120))
        let indexStale = reader.duration("DOCUMENT_INDEX_STALE_AFTER", default: .seconds(600))
        let hashConcurrency = reader.int("PASSWORD_HASH_CONCURRENCY", default: 4, range: 1...256)
        let hashQueue = reader.int("PASSWORD_HASH_QUEUE", default: 16, range: 0...10_000)
        let credentialFailures = reader.int("CREDENTIAL_FAILURES_PER_ADDRESS", default: 100, range: 1...1_000_000)
        let credentialWindow = reader.duration("CREDENTIAL_FAILURE_WINDOW", default: .seconds(60))
        let proxies = reader.list("TRUSTED_PROXIES")
        for proxy in proxies where IPAddress(proxy) == nil {
            reader.recordProblem(
                "TRUSTED_PROXIES",
                "TRUSTED_PROXIES \"\(proxy.prefix(100))\" is not an IP address (list addresses, "
                    + "comma-separated)")
        }
        for (key, value) in [
            ("LOGIN_FAILURE_WINDOW", window), ("ACCESS_TOKEN_TTL", access), ("REFRESH_TOKEN_TTL", refresh),
            ("CONVERSATION_STALE_AFTER", conversationStale), ("DOCUMENT_INDEX_STALE_AFTER", indexStale),
            ("CREDENTIAL_FAILURE_WINDOW", credentialWindow),
        ]
        where value < .seconds(1) {
            reader.recordProblem(key, "\(key) must be at least one second")
        }
        var settings = ControlSettings(
            bootstrapToken: token, bootstrapTenantSlug: slug, bootstrapOwnerEmail: email,
            bootstrapOwnerPassword: password, loginMaxFailures: failures,
            loginMaxFailuresPerAddress: perAddress, loginWindow: window,
            accessTokenTTL: access, refreshTokenTTL: refresh, documentMaxBytes: documentMaxBytes,
            conversationStaleAfter: conversationStale, documentIndexStaleAfter: indexStale)
        settings.conversationRetentionSweepInterval = reader.duration(
            "CONVERSATION_RETENTION_SWEEP_INTERVAL", default: .seconds(600))
        if settings.conversationRetentionSweepInterval < .milliseconds(100) {
            reader.recordProblem(
                "CONVERSATION_RETENTION_SWEEP_INTERVAL", "CONVERSATION_RETENTION_SWEEP_INTERVAL must be at least 100ms")
        }
        settings.passwordHashConcurrency = hashConcurrency
        settings.passwordHashQueue = hashQueue
        settings.credentialFailuresPerAddress = credentialFailures
        settings.credentialFailureWindow = credentialWindow
        settings.trustedProxies = proxies
        settings.flowCacheBytes = reader.int("CONTROL_FLOW_CACHE_BYTES", default: 16 << 20, range: 0...(1 << 30))
        return settings
    }
}

extension Duration {
    /// Whole milliseconds, for SQL intervals (`$n::int8 * interval '1 millisecond'`).
    var controlMilliseconds: Int64 { saturatingMilliseconds }
}
