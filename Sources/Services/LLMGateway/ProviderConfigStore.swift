import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimeHTTP
import RuntimePostgres
import RuntimeSecurity

/// A tenant's configuration as read from the store, with its sealed key.
struct StoredProviderConfig: Sendable {
    var config: ProviderConfiguration
    var sealedAPIKey: String?
    /// The origin the key is bound to; nil for none, or for a key saved before origins were
    /// recorded (never sent).
    var apiKeyOrigin: String?
    var revision: Int64
    var updatedBy: String
    var updatedAt: Date?

    /// The tenant that never configured anything.
    static let unset = StoredProviderConfig(
        config: .builtinDefaults, sealedAPIKey: nil, apiKeyOrigin: nil, revision: 0, updatedBy: "", updatedAt: nil)

    var message: Agentplane_V1_ProviderConfig {
        config.message(apiKeySet: sealedAPIKey != nil, revision: revision, updatedBy: updatedBy, updatedAt: updatedAt)
    }
}

/// Reads and writes `llm.provider_configs`, one row per tenant, under row-level security.
///
/// The API key is bound to the origin (scheme, host, port) of the base_url it was saved for: a
/// configuration that points elsewhere must send the key again (or clear it), and the key is
/// sent only to that origin.
struct ProviderConfigStore: Sendable {
    let postgres: PostgresPool
    /// What model calls read (`LLM_PROVIDER_CONFIG_CACHE_TTL`); saves replace their tenant's entry.
    let cache: ProviderConfigCache

    /// The secret box context of a tenant's provider key: a ciphertext opens only for its tenant
    /// and the origin it is bound to.
    static func keyContext(tenant: String, origin: String) -> String {
        "\(tenant)/llm/provider/api_key|origin=\(origin)"
    }

    /// The origin a configuration sends its key to: its base_url's; "" for the built-in provider.
    static func origin(of config: ProviderConfiguration) -> String {
        OutboundOrigin(string: config.baseURL)?.description ?? ""
    }

    /// The tenant's configuration: as read less than the cache's TTL ago, or read now (`fresh`,
    /// for GetProviderConfig, always).
    func load(tenant: String, fresh: Bool = false) async throws -> StoredProviderConfig {
        if !fresh, let cached = cache.value(tenant: tenant) { return cached }
        let stored = try await postgres.transaction(tenant: tenant) { session in
            try await Self.read(session, tenant: tenant, lock: false) ?? .unset
        }
        cache.store(stored, tenant: tenant)
        return stored
    }

    /// Replaces the configuration: checks the expected revision, merges the key, bumps the revision.
    func save(
        tenant: String, user: String, config: ProviderConfiguration, request: Agentplane_V1_SetProviderConfigRequest,
        secretBox: () throws(RPCError) -> SecretBox
    ) async throws -> StoredProviderConfig {
        let json = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        // Whatever the outcome, the next call reads the row again.
        cache.remove(tenant: tenant)
        defer { cache.remove(tenant: tenant) }
        do {
            return try await postgres.transaction(tenant: tenant) { session in
                let current = try await Self.read(session, tenant: tenant, lock: true)
                let revision = current?.revision ?? 0
                if request.expectedRevision != 0 && request.expectedRevision != revision {
                    throw RPCError.withDetails(
                        .aborted,
                        "expected_revision \(request.expectedRevision) is stale (current: \(revision)); "
                            + "re-read and retry",
                        reason: "REVISION_MISMATCH")
                }
                var sealed = current?.sealedAPIKey
                var origin = current?.apiKeyOrigin
                let target = Self.origin(of: config)
                if request.clearAPIKey {
                    sealed = nil
                    origin = nil
                }
                if !request.apiKey.isEmpty {
                    do {
                        sealed = try secretBox().sealString(
                            request.apiKey, context: Self.keyContext(tenant: tenant, origin: target))
                        origin = target
                    } catch let error as SecretBoxError {
                        throw RPCError(code: .internalError, message: "cannot seal the API key: \(error.code)")
                    }
                } else if sealed != nil {
                    // The kept key stays with the origin it was saved for.
                    guard let origin else { throw Self.keyNotBound }
                    if origin != target { throw Self.keyBound(to: target) }
                }
                let rows = try await session.query(
                    """
                    INSERT INTO llm.provider_configs
                        (tenant_id, config, api_key_sealed, revision, updated_by, updated_at, api_key_origin)
                    VALUES ($1, $2::jsonb, $3, $4, $5, now(), $6)
                    ON CONFLICT (tenant_id) DO UPDATE SET config = EXCLUDED.config,
                        api_key_sealed = EXCLUDED.api_key_sealed, revision = EXCLUDED.revision,
                        updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at,
                        api_key_origin = EXCLUDED.api_key_origin
                    RETURNING extract(epoch FROM updated_at)::float8 AS updated_at
                    """, tenant, json, sealed, revision + 1, user, sealed == nil ? nil : origin)
                let updatedAt = try rows.first.map { Date(timeIntervalSince1970: try $0.decode("updated_at")) }
                return StoredProviderConfig(
                    config: config, sealedAPIKey: sealed, apiKeyOrigin: sealed == nil ? nil : origin,
                    revision: revision + 1, updatedBy: user, updatedAt: updatedAt)
            }
        } catch let error as PostgresError where error.code == .uniqueViolation {
            throw RPCError(code: .aborted, message: "the configuration was changed concurrently; re-read and retry")
        }
    }

    /// A kept key saved before keys were bound to an origin: it must be sent again.
    static var keyNotBound: RPCError {
        RPCError.withDetails(
            .failedPrecondition,
            "the stored API key was saved before keys were bound to the provider's origin; send api_key again "
                + "(or clear_api_key)",
            reason: "PROVIDER_KEY_NOT_BOUND")
    }

    /// A configuration that would send the kept key to another origin.
    static func keyBound(to target: String) -> RPCError {
        RPCError.withDetails(
            .failedPrecondition,
            "the stored API key is bound to the origin it was saved for, and this configuration points at another "
                + "one (\(target.isEmpty ? "none" : String(target.prefix(300)))); send api_key again in the same "
                + "call, or set clear_api_key",
            reason: "PROVIDER_KEY_BOUND_TO_ORIGIN")
    }

    private static func read(_ session: PostgresSession, tenant: String, lock: Bool) async throws
        -> StoredProviderConfig?
    {
        let rows = try await session.query(
            """
            SELECT config::text AS config, api_key_sealed, api_key_origin, revision, updated_by,
                extract(epoch FROM updated_at)::float8 AS updated_at
            FROM llm.provider_configs WHERE tenant_id = $1\(lock ? " FOR UPDATE" : "")
            """, tenant)
        guard let row = rows.first else { return nil }
        let config = try JSONDecoder().decode(
            ProviderConfiguration.self, from: Data(try row.decode("config", as: String.self).utf8))
        return StoredProviderConfig(
            config: config, sealedAPIKey: row["api_key_sealed"], apiKeyOrigin: row["api_key_origin"],
            revision: try row.decode("revision"),
            updatedBy: try row.decode("updated_by"),
            updatedAt: Date(timeIntervalSince1970: try row.decode("updated_at", as: Double.self)))
    }
}
