import Foundation
import Logging
import RPCCore
import RPCModels
import RuntimePostgres
import RuntimeRedis
import RuntimeSecurity

/// What every handler of the control plane shares: the stores' pool, Redis, the token issuer.
struct ControlContext: Sendable {
    let postgres: PostgresPool
    let redis: RedisPool
    let tokens: TokenIssuer
    let revocations: any RevocationList
    let settings: ControlSettings
    let events: DomainEvents
    let logger: Logger
    /// Bounds the scrypt computations callers can start (Login, CreateUser).
    let passwordHashing: PasswordHashingGate

    /// Runs `body` in one transaction bound to `tenant`.
    func transaction<R: Sendable>(tenant: String, _ body: (PostgresSession) async throws -> R) async throws -> R {
        try await postgres.transaction(tenant: tenant, body)
    }

    /// The tenants directory, outside any tenant's scope (it has no row-level security).
    func tenants<R: Sendable>(_ body: (TenantStore) async throws -> R) async throws -> R {
        try await postgres.transaction { session in try await body(TenantStore(session: session)) }
    }

    /// A new access token and a new session (refresh-token family) for `user`, in `session`.
    func startSession(tenant: String, user: StoredUser, in session: PostgresSession) async throws
        -> Agentplane_V1_TokenPair
    {
        let access = try await tokens.issueAccessToken(
            tenantID: tenant, userID: user.user.id, role: user.effectiveRole, ttl: settings.accessTokenTTL)
        let refresh = OpaqueCredential.generate(kind: OpaqueCredential.refreshPrefix, tenantID: tenant)
        let expires = Date().addingTimeInterval(Double(settings.refreshTokenTTL.components.seconds))
        try await SessionStore(session: session, tenant: tenant).create(
            id: UUID().uuidString.lowercased(), userID: user.user.id, expiresAt: expires, refreshHash: refresh.hash,
            access: SessionAccessToken(tokenID: access.tokenID, expiresAt: access.expiresAt))
        return Self.pair(access: access, refresh: refresh.text, refreshExpires: expires)
    }

    static func pair(access: IssuedToken, refresh: String, refreshExpires: Date) -> Agentplane_V1_TokenPair {
        var pair = Agentplane_V1_TokenPair()
        pair.accessToken = access.token
        pair.accessTokenExpiresAt = Google_Protobuf_Timestamp(date: access.expiresAt)
        pair.refreshToken = refresh
        pair.refreshTokenExpiresAt = Google_Protobuf_Timestamp(date: refreshExpires)
        return pair
    }

    /// Denylists access tokens until they would expire anyway.
    func denylist(_ tokens: [SessionAccessToken]) async throws {
        for token in tokens where token.expiresAt > Date() {
            try await revocations.revoke(tokenID: token.tokenID, until: token.expiresAt)
        }
    }
}
