import Foundation
import ProtoCoding
import RPCModels
import RuntimePostgres

/// The tenants directory. Slugs are resolved without a tenant context (Login); everything
/// else is looked up by the caller's own tenant id.
struct TenantStore: Sendable {
    let session: PostgresSession

    static let columns =
        "id, slug, display_name, settings, revision, \(RowDecoding.micros("created_at")), "
        + RowDecoding.micros("updated_at")

    func insert(id: String, slug: String, displayName: String, settings: Agentplane_V1_TenantSettings)
        async throws -> Agentplane_V1_Tenant
    {
        let rows = try await session.query(
            "INSERT INTO control.tenants (id, slug, display_name, settings) VALUES ($1, $2, $3, $4) RETURNING "
                + Self.columns, id, slug, displayName, settings.serializedBytes())
        return try Self.tenant(rows[0])
    }

    func tenant(id: String) async throws -> Agentplane_V1_Tenant? {
        try await session.query("SELECT \(Self.columns) FROM control.tenants WHERE id = $1", id).first.map(Self.tenant)
    }

    func tenant(slug: String) async throws -> Agentplane_V1_Tenant? {
        try await session.query("SELECT \(Self.columns) FROM control.tenants WHERE slug = $1", slug).first.map(
            Self.tenant)
    }

    /// Replaces settings and name when `expectedRevision` (0: any) matches; nil when it does not.
    func update(id: String, displayName: String, settings: Agentplane_V1_TenantSettings, expectedRevision: Int64)
        async throws -> Agentplane_V1_Tenant?
    {
        try await session.query(
            """
            UPDATE control.tenants SET display_name = $2, settings = $3, revision = revision + 1, updated_at = now()
            WHERE id = $1 AND ($4::bigint = 0 OR revision = $4::bigint) RETURNING \(Self.columns)
            """, id, displayName, settings.serializedBytes(), expectedRevision
        ).first.map(Self.tenant)
    }

    static func tenant(_ row: PostgresRow) throws -> Agentplane_V1_Tenant {
        var tenant = Agentplane_V1_Tenant()
        tenant.id = try row.decode("id")
        tenant.slug = try row.decode("slug")
        tenant.displayName = try row.decode("display_name")
        let bytes = try row.decode("settings", as: [UInt8].self)
        tenant.settings = (try? Agentplane_V1_TenantSettings(serializedBytes: bytes)) ?? .init()
        tenant.revision = try row.decode("revision")
        tenant.createdAt = try RowDecoding.timestamp(row, "created_at")
        tenant.updatedAt = try RowDecoding.timestamp(row, "updated_at")
        return tenant
    }
}
