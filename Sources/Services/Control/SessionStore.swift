import Foundation
import RuntimePostgres

/// A refresh token as found, with its session.
struct RefreshRecord: Sendable {
    var sessionID: String
    var userID: String
    var used: Bool
    var sessionRevoked: Bool
    var sessionExpiresAt: Date
}

/// An access token to denylist when its session ends.
struct SessionAccessToken: Sendable {
    var tokenID: String
    var expiresAt: Date
}

/// Sign-in sessions (refresh-token families) of one tenant.
struct SessionStore: Sendable {
    let session: PostgresSession
    let tenant: String

    func create(id: String, userID: String, expiresAt: Date, refreshHash: String, access: SessionAccessToken)
        async throws
    {
        _ = try await session.query(
            """
            INSERT INTO control.sessions (tenant_id, id, user_id, expires_at) VALUES ($1, $2, $3, to_timestamp($4))
            """, tenant, id, userID, expiresAt.timeIntervalSince1970)
        try await addRefreshToken(hash: refreshHash, sessionID: id, access: access)
    }

    /// Forgets a user's sessions that ended more than a day ago (their refresh tokens go with
    /// them); run at each login so the tables stay bounded by the active sessions.
    func purgeEnded(userID: String) async throws {
        _ = try await session.query(
            """
            DELETE FROM control.sessions WHERE tenant_id = $1 AND user_id = $2
                AND (expires_at < now() - interval '1 day' OR revoked_at < now() - interval '1 day')
            """, tenant, userID)
    }

    /// Records a refresh token of `sessionID` and the access token issued with it.
    func addRefreshToken(hash: String, sessionID: String, access: SessionAccessToken) async throws {
        _ = try await session.query(
            """
            INSERT INTO control.refresh_tokens (tenant_id, token_hash, session_id, access_token_id, access_expires_at)
            VALUES ($1, $2, $3, $4, to_timestamp($5))
            """, tenant, hash, sessionID, access.tokenID, access.expiresAt.timeIntervalSince1970)
    }

    /// The refresh token with `hash`, it and its session locked until the transaction ends.
    func refreshToken(hash: String) async throws -> RefreshRecord? {
        let rows = try await session.query(
            """
            SELECT s.id, s.user_id, r.used_at IS NOT NULL AS used, s.revoked_at IS NOT NULL AS revoked,
                extract(epoch FROM s.expires_at)::float8 AS expires
            FROM control.refresh_tokens r JOIN control.sessions s ON s.tenant_id = r.tenant_id AND s.id = r.session_id
            WHERE r.tenant_id = $1 AND r.token_hash = $2 FOR UPDATE OF s, r
            """, tenant, hash)
        guard let row = rows.first else { return nil }
        return RefreshRecord(
            sessionID: try row.decode("id"), userID: try row.decode("user_id"), used: try row.decode("used"),
            sessionRevoked: try row.decode("revoked"),
            sessionExpiresAt: Date(timeIntervalSince1970: try row.decode("expires")))
    }

    func markUsed(hash: String) async throws {
        _ = try await session.query(
            "UPDATE control.refresh_tokens SET used_at = now() WHERE tenant_id = $1 AND token_hash = $2", tenant, hash)
    }

    /// Revokes the open sessions matching `condition` (with `$2`, `$3`, … bound to `values`);
    /// every access token of theirs that has not expired yet, to denylist, and how many sessions
    /// ended.
    private func revoke(where condition: String, values: [String]) async throws -> (
        tokens: [SessionAccessToken], sessions: Int
    ) {
        let parameters: [(any PostgresEncodable)?] = [tenant] + values.map { $0 }
        let rows = try await session.query(
            """
            WITH ended AS (
                UPDATE control.sessions SET revoked_at = now()
                WHERE tenant_id = $1 AND \(condition) AND revoked_at IS NULL RETURNING id)
            SELECT e.id, r.access_token_id, extract(epoch FROM r.access_expires_at)::float8 AS access_expires
            FROM ended e LEFT JOIN control.refresh_tokens r
                ON r.tenant_id = $1 AND r.session_id = e.id AND r.access_expires_at > now()
            """, parameters)
        var tokens: [SessionAccessToken] = []
        var sessions = Set<String>()
        for row in rows {
            sessions.insert(try row.decode("id"))
            if let id = row["access_token_id"] {
                tokens.append(
                    SessionAccessToken(
                        tokenID: id, expiresAt: Date(timeIntervalSince1970: try row.decode("access_expires"))))
            }
        }
        return (tokens, sessions.count)
    }

    private func revoke(where condition: String, value: String) async throws -> [SessionAccessToken] {
        try await revoke(where: condition, values: [value]).tokens
    }

    func revoke(sessionID: String) async throws -> [SessionAccessToken] {
        try await revoke(where: "id = $2", value: sessionID)
    }

    /// Ends the session an access token was issued in (by Login or any Refresh of it).
    func revoke(accessTokenID: String) async throws -> [SessionAccessToken] {
        try await revoke(
            where:
                "id IN (SELECT session_id FROM control.refresh_tokens WHERE tenant_id = $1 AND access_token_id = $2)",
            value: accessTokenID)
    }

    func revokeAll(userID: String) async throws -> [SessionAccessToken] {
        try await revoke(where: "user_id = $2", value: userID)
    }

    /// Ends every session of `userID` but the one `accessTokenID` was issued in (nil: all of
    /// them): the access tokens to denylist and how many sessions ended.
    func revokeAll(userID: String, except accessTokenID: String?) async throws -> (
        tokens: [SessionAccessToken], sessions: Int
    ) {
        guard let accessTokenID else { return try await revoke(where: "user_id = $2", values: [userID]) }
        return try await revoke(
            where:
                "user_id = $2 AND id NOT IN (SELECT session_id FROM control.refresh_tokens "
                + "WHERE tenant_id = $1 AND access_token_id = $3)",
            values: [userID, accessTokenID])
    }
}
