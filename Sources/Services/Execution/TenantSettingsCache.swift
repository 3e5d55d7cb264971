import RPCCore
import RPCModels
import Runtime
import Synchronization

/// Tenants' settings (their run limits), read from the control plane's TenantService.GetTenant on
/// the caller's behalf and reused for `EXECUTION_TENANT_SETTINGS_TTL`: at most one call per
/// tenant and interval on each replica, none per step. A run's limits are fixed when it starts.
final class TenantSettingsCache: Sendable {
    private struct Entry {
        var settings: Agentplane_V1_TenantSettings
        var fetched: ContinuousClock.Instant
    }

    /// The most tenants remembered; past it the cache starts over.
    static let capacity = 10_000

    private let peers: PeerClients
    private let ttl: Duration
    private let entries = Mutex<[String: Entry]>([:])

    init(peers: PeerClients, ttl: Duration) {
        self.peers = peers
        self.ttl = ttl
    }

    /// The settings of `tenant` (the current caller's). When the control plane cannot be asked,
    /// the last settings read are used; without any, UNAVAILABLE (a run's limits are not
    /// guessed). A tenant the control plane does not know has the platform's defaults.
    func settings(tenant: String) async throws -> Agentplane_V1_TenantSettings {
        let now = ContinuousClock.now
        let cached = entries.withLock { $0[tenant] }
        if let cached, now - cached.fetched < ttl { return cached.settings }
        let settings: Agentplane_V1_TenantSettings
        do {
            let client = Agentplane_V1_TenantService.Client(try peers.client(for: .control))
            settings =
                try await client.getTenant(.init(), options: .init(timeout: .seconds(5))).tenant?.settings ?? .init()
        } catch let error as RPCError where error.code == .notFound {
            settings = .init()
        } catch {
            if let cached { return cached.settings }
            throw RPCError(
                code: .unavailable,
                message: "the control plane is unavailable, so the tenant's run limits cannot be read; retry later")
        }
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll() }
            entries[tenant] = Entry(settings: settings, fetched: now)
        }
        return settings
    }
}
