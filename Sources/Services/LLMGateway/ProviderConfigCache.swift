import Synchronization

/// Tenants' provider configurations as last read, each used for `LLM_PROVIDER_CONFIG_CACHE_TTL`:
/// a model call then needs no read of its own. A save on this replica replaces the entry at once;
/// other replicas see it within the TTL.
final class ProviderConfigCache: Sendable {
    private struct Entry {
        let stored: StoredProviderConfig
        let expires: ContinuousClock.Instant
    }

    private let ttl: Duration
    private let capacity: Int
    private let entries = Mutex<[String: Entry]>([:])

    /// A cache keeping each entry `ttl` (zero: nothing is kept), for at most `capacity` tenants.
    init(ttl: Duration, capacity: Int = 10_000) {
        self.ttl = ttl
        self.capacity = capacity
    }

    /// The tenant's configuration if read less than the TTL ago.
    func value(tenant: String) -> StoredProviderConfig? {
        let now = ContinuousClock.now
        return entries.withLock { entries in
            guard let entry = entries[tenant] else { return nil }
            guard entry.expires > now else {
                entries[tenant] = nil
                return nil
            }
            return entry.stored
        }
    }

    /// Keeps `stored` as the tenant's configuration for the TTL.
    func store(_ stored: StoredProviderConfig, tenant: String) {
        guard ttl > .zero else { return }
        let now = ContinuousClock.now
        entries.withLock { entries in
            if entries.count >= capacity, entries[tenant] == nil {
                entries = entries.filter { $0.value.expires > now }
                // All still fresh: start over rather than grow past the bound.
                if entries.count >= capacity { entries.removeAll() }
            }
            entries[tenant] = Entry(stored: stored, expires: now + ttl)
        }
    }

    /// Forgets the tenant's entry (its configuration was just saved).
    func remove(tenant: String) {
        _ = entries.withLock { $0.removeValue(forKey: tenant) }
    }
}
