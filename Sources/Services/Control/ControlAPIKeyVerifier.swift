import Foundation
import RPCCore
import RuntimePostgres
import RuntimeSecurity

/// Verifies `apk_` keys against the store on every call (no cache), so a revoked key stops at
/// once. Failed lookups are limited per client address (`CredentialLookupLimiter`): an address
/// past the limit is answered RESOURCE_EXHAUSTED before the store is asked.
struct ControlAPIKeyVerifier: APIKeyVerifier {
    let pool: PostgresPool
    let lookups: CredentialLookupLimiter
    let addresses: ClientAddressResolver

    func verify(apiKey: String, peer: String, metadata: Metadata) async throws -> AuthContext? {
        let address = await addresses.address(peer: peer, metadata: metadata)
        try await lookups.check(address: address)
        let caller = try await verify(apiKey: apiKey)
        if caller == nil { await lookups.recordFailure(address: address) }
        return caller
    }

    func verify(apiKey: String) async throws -> AuthContext? {
        guard let credential = OpaqueCredential.parse(apiKey, kind: OpaqueCredential.apiKeyPrefix) else { return nil }
        let tenant = credential.tenantID
        let found = try await pool.transaction(tenant: tenant) { session in
            try await APIKeyStore(session: session, tenant: tenant).activeKey(hash: credential.hash)
        }
        guard let (stored, ownerRoles) = found, let keyRole = Role.highestHuman(of: stored.roles),
            let ownerRole = Role.highestHuman(of: ownerRoles)
        else { return nil }
        // A key never grants more than its owner holds now: demoting a user demotes their keys.
        let role = keyRole.satisfies(ownerRole) ? ownerRole : keyRole
        return AuthContext(
            kind: .apiKey, tenantID: tenant, userID: stored.key.ownerUserID, role: role, tokenID: stored.key.id,
            expiresAt: stored.key.expiresAt?.date)
    }
}
