public import Logging
public import RPCCore
public import RuntimeConfig
public import RuntimeHTTP
public import RuntimePostgres
public import RuntimeRedis
public import RuntimeSecurity

/// Everything a service's logic needs, prepared by the host from the configuration, so that a
/// service's own code is only its logic.
public struct ServiceEnvironment: Sendable {
    /// The validated configuration.
    public let configuration: ServiceConfiguration
    /// The service's logger (JSON lines; adds request, trace and tenant ids by itself).
    public let logger: Logger
    /// Connections to PostgreSQL as the application role, under row-level security.
    public let postgres: PostgresPool
    /// Connections to Redis.
    public let redis: RedisPool
    /// Mints the platform's tokens (HS256 with JWT_SECRET).
    public let tokens: TokenIssuer
    /// Verifies tokens (the platform's, and configured external issuers').
    public let verifier: TokenVerifier
    /// Revoked token ids, in Redis.
    public let revocations: any RevocationList
    /// The secret box from SECRET_BOX_KEYS, if set; see `requireSecretBox()`.
    public let secretBox: SecretBox?
    /// Outbound HTTP to URLs tenants supply, under the outbound-URL policy.
    public let http: OutboundHTTPClient
    /// Clients for the other services.
    public let peers: PeerClients
    /// What the definition's `readSettings` returned.
    public let settings: any Sendable

    /// The service's own settings, as the type its `readSettings` returns.
    public func settings<Settings: Sendable>(as type: Settings.Type) -> Settings {
        guard let settings = settings as? Settings else {
            preconditionFailure("readSettings returned \(Swift.type(of: settings)), not \(Settings.self)")
        }
        return settings
    }

    /// The secret box, or FAILED_PRECONDITION naming SECRET_BOX_KEYS for the call that needs it.
    public func requireSecretBox() throws(RPCError) -> SecretBox {
        try SecretBox.required(secretBox)
    }
}
