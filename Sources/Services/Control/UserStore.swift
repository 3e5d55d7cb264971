import Foundation
import RPCModels
import RuntimePostgres
import RuntimeSecurity

/// A user row with what only the server sees.
struct StoredUser: Sendable {
    var user: Agentplane_V1_User
    var roles: [Role]
    var passwordHash: String

    /// The role tokens carry: the highest one held.
    var effectiveRole: Role { Role.highestHuman(of: roles) ?? .member }
}

/// Users of one tenant, inside that tenant's transaction.
struct UserStore: Sendable {
    let session: PostgresSession
    let tenant: String

    static let columns =
        "id, email, display_name, roles, password_hash, password_temporary, \(RowDecoding.micros("created_at")), "
        + "\(RowDecoding.micros("updated_at")), \(RowDecoding.micros("last_login_at"))"

    /// A new user; `temporary`: the password is one an admin chose.
    func insert(
        id: String, email: String, displayName: String, roles: [Role], passwordHash: String, temporary: Bool = false
    ) async throws -> StoredUser {
        let rows = try await session.query(
            """
            INSERT INTO control.users (tenant_id, id, email, display_name, roles, password_hash, password_temporary)
            VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING \(Self.columns)
            """, tenant, id, email, displayName, RoleMapping.encode(roles), passwordHash, temporary)
        return try Self.user(rows[0])
    }

    func user(id: String, locking: Bool = false) async throws -> StoredUser? {
        try await session.query(
            "SELECT \(Self.columns) FROM control.users WHERE tenant_id = $1 AND id = $2"
                + (locking ? " FOR UPDATE" : ""),
            tenant, id
        ).first.map(Self.user)
    }

    func user(email: String) async throws -> StoredUser? {
        try await session.query(
            "SELECT \(Self.columns) FROM control.users WHERE tenant_id = $1 AND email = $2", tenant, email
        ).first.map(Self.user)
    }

    /// One page ordered by email, after `afterEmail`; one extra row tells a next page exists.
    func list(role: Role?, query: String, afterEmail: String?, limit: Int) async throws -> [StoredUser] {
        var conditions = ["tenant_id = $1"]
        var parameters: [(any PostgresEncodable)?] = [tenant]
        func bind(_ value: any PostgresEncodable) -> String {
            parameters.append(value)
            return "$\(parameters.count)"
        }
        if let role { conditions.append("(',' || roles || ',') LIKE \(bind("%," + role.rawValue + ",%"))") }
        if !query.isEmpty {
            let pattern = "%" + Self.escapeLike(query) + "%"
            let placeholder = bind(pattern)
            conditions.append("(email ILIKE \(placeholder) OR display_name ILIKE \(placeholder))")
        }
        if let afterEmail { conditions.append("email > \(bind(afterEmail))") }
        let sql = """
            SELECT \(Self.columns) FROM control.users WHERE \(conditions.joined(separator: " AND "))
            ORDER BY email LIMIT \(bind(limit + 1))
            """
        return try await session.query(sql, parameters).map(Self.user)
    }

    func setRoles(id: String, roles: [Role]) async throws -> StoredUser? {
        try await session.query(
            """
            UPDATE control.users SET roles = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2
            RETURNING \(Self.columns)
            """, tenant, id, RoleMapping.encode(roles)
        ).first.map(Self.user)
    }

    /// Replaces a user's password hash (`temporary`: one an admin chose); false when there is no
    /// such user.
    func setPassword(id: String, hash: String, temporary: Bool) async throws -> Bool {
        try await !session.query(
            """
            UPDATE control.users SET password_hash = $3, password_temporary = $4, updated_at = now()
            WHERE tenant_id = $1 AND id = $2 RETURNING id
            """, tenant, id, hash, temporary
        ).isEmpty
    }

    func delete(id: String) async throws {
        _ = try await session.query("DELETE FROM control.users WHERE tenant_id = $1 AND id = $2", tenant, id)
    }

    func recordLogin(id: String) async throws {
        _ = try await session.query(
            "UPDATE control.users SET last_login_at = now() WHERE tenant_id = $1 AND id = $2", tenant, id)
    }

    /// Owners of the tenant, locked so two demotions cannot both leave one owner each.
    func ownerIDs() async throws -> [String] {
        try await session.query(
            """
            SELECT id FROM control.users WHERE tenant_id = $1 AND (',' || roles || ',') LIKE '%,owner,%'
            ORDER BY id FOR UPDATE
            """, tenant
        ).map { try $0.decode("id") }
    }

    static func escapeLike(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }

    static func user(_ row: PostgresRow) throws -> StoredUser {
        var user = Agentplane_V1_User()
        user.id = try row.decode("id")
        user.email = try row.decode("email")
        user.displayName = try row.decode("display_name")
        let roles = RoleMapping.decode(try row.decode("roles"))
        user.roles = roles.map(RoleMapping.proto)
        user.createdAt = try RowDecoding.timestamp(row, "created_at")
        user.updatedAt = try RowDecoding.timestamp(row, "updated_at")
        user.lastLoginAt = try RowDecoding.timestamp(row, "last_login_at")
        user.passwordTemporary = try row.decode("password_temporary")
        return StoredUser(user: user, roles: roles, passwordHash: try row.decode("password_hash"))
    }
}
