import Foundation
import RPCModels
import RuntimePostgres
import RuntimeSecurity

/// An API key row with its roles as the runtime knows them.
struct StoredAPIKey: Sendable {
    var key: Agentplane_V1_ApiKey
    var roles: [Role]
    var seq: Int64
}

/// API keys of one tenant; only hashes of the secrets are kept.
struct APIKeyStore: Sendable {
    let session: PostgresSession
    let tenant: String

    static let columns =
        "id, seq, owner_user_id, name, prefix, roles, \(RowDecoding.micros("created_at")), "
        + "\(RowDecoding.micros("expires_at")), \(RowDecoding.micros("last_used_at")), "
        + RowDecoding.micros("revoked_at")

    func insert(id: String, owner: String, name: String, prefix: String, hash: String, roles: [Role], expiresAt: Date?)
        async throws -> StoredAPIKey
    {
        let rows = try await session.query(
            """
            INSERT INTO control.api_keys (tenant_id, id, owner_user_id, name, prefix, key_hash, roles, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8::float8)) RETURNING \(Self.columns)
            """, tenant, id, owner, name, prefix, hash, RoleMapping.encode(roles), expiresAt?.timeIntervalSince1970)
        return try Self.key(rows[0])
    }

    /// The active key with `hash` (not revoked, not expired, owner still a user) and its owner's
    /// current roles; marks it used.
    func activeKey(hash: String) async throws -> (key: StoredAPIKey, ownerRoles: [Role])? {
        let rows = try await session.query(
            """
            UPDATE control.api_keys k SET last_used_at = now() FROM control.users u
            WHERE k.tenant_id = $1 AND k.key_hash = $2 AND k.revoked_at IS NULL
                AND (k.expires_at IS NULL OR k.expires_at > now())
                AND u.tenant_id = k.tenant_id AND u.id = k.owner_user_id
            RETURNING k.id, k.seq, k.owner_user_id, k.name, k.prefix, k.roles, u.roles AS owner_roles,
                (extract(epoch FROM k.created_at) * 1000000)::bigint AS created_at_us,
                (extract(epoch FROM k.expires_at) * 1000000)::bigint AS expires_at_us,
                (extract(epoch FROM k.last_used_at) * 1000000)::bigint AS last_used_at_us,
                (extract(epoch FROM k.revoked_at) * 1000000)::bigint AS revoked_at_us
            """, tenant, hash)
        guard let row = rows.first else { return nil }
        return (try Self.key(row), RoleMapping.decode(try row.decode("owner_roles")))
    }

    func key(id: String) async throws -> StoredAPIKey? {
        try await session.query(
            "SELECT \(Self.columns) FROM control.api_keys WHERE tenant_id = $1 AND id = $2", tenant, id
        ).first.map(Self.key)
    }

    func activeCount(owner: String) async throws -> Int {
        try await session.query(
            """
            SELECT count(*) AS n FROM control.api_keys WHERE tenant_id = $1 AND owner_user_id = $2
                AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
            """, tenant, owner
        )[0].decode("n")
    }

    /// Newest first, before sequence `before`; one extra row tells a next page exists.
    func list(owner: String?, includeRevoked: Bool, before: Int64?, limit: Int) async throws -> [StoredAPIKey] {
        var conditions = ["tenant_id = $1"]
        var parameters: [(any PostgresEncodable)?] = [tenant]
        if let owner {
            parameters.append(owner)
            conditions.append("owner_user_id = $\(parameters.count)")
        }
        if !includeRevoked {
            conditions.append("revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())")
        }
        if let before {
            parameters.append(before)
            conditions.append("seq < $\(parameters.count)")
        }
        parameters.append(limit + 1)
        return try await session.query(
            """
            SELECT \(Self.columns) FROM control.api_keys WHERE \(conditions.joined(separator: " AND "))
            ORDER BY seq DESC LIMIT $\(parameters.count)
            """, parameters
        ).map(Self.key)
    }

    func revoke(id: String) async throws {
        _ = try await session.query(
            "UPDATE control.api_keys SET revoked_at = now() WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL",
            tenant, id)
    }

    func revokeAll(owner: String) async throws {
        _ = try await session.query(
            """
            UPDATE control.api_keys SET revoked_at = now()
            WHERE tenant_id = $1 AND owner_user_id = $2 AND revoked_at IS NULL
            """, tenant, owner)
    }

    static func key(_ row: PostgresRow) throws -> StoredAPIKey {
        var key = Agentplane_V1_ApiKey()
        key.id = try row.decode("id")
        key.name = try row.decode("name")
        key.prefix = try row.decode("prefix")
        let roles = RoleMapping.decode(try row.decode("roles"))
        key.roles = roles.map(RoleMapping.proto)
        key.ownerUserID = try row.decode("owner_user_id")
        key.createdAt = try RowDecoding.timestamp(row, "created_at")
        key.expiresAt = try RowDecoding.timestamp(row, "expires_at")
        key.lastUsedAt = try RowDecoding.timestamp(row, "last_used_at")
        key.revokedAt = try RowDecoding.timestamp(row, "revoked_at")
        return StoredAPIKey(key: key, roles: roles, seq: try row.decode("seq"))
    }
}
