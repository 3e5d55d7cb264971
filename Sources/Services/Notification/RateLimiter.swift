import RuntimeRedis

/// The per-tenant notification rate limit: a fixed one-minute window in Redis that starts at
/// the tenant's first notification, shared by every replica.
struct RateLimiter: Sendable {
    let redis: RedisPool
    let limitPerMinute: Int

    /// Counts one notification; returns how long to wait when the tenant is over its limit.
    func admit(tenant: String) async throws -> Duration? {
        guard limitPerMinute > 0 else { return nil }
        let key = try RedisKey.tenant(tenant, "notification", "rate")
        // SET NX EX starts a window (with its expiry) only when none is open; INCR keeps the expiry.
        let replies = try await redis.pipeline([
            ["SET", key, "0", "EX", "60", "NX"], ["INCR", key], ["PTTL", key],
        ])
        let count = try replies[1].int()
        guard count > Int64(limitPerMinute) else { return nil }
        let remaining = (try? replies[2].int()) ?? 60_000
        return .milliseconds(max(remaining, 1))
    }
}
