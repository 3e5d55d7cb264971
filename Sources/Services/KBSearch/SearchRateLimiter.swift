import FoundationEssentials
import Logging
import RPCCore
import Runtime
import RuntimeRedis

/// The tenant's search rate limit: a per-minute window counted in Redis, so every replica shares
/// it. Redis being unreachable lets searches through (and logs it): search stays available.
struct SearchRateLimiter: Sendable {
    let redis: RedisPool
    /// Searches per tenant per minute; 0: no limit.
    let perMinute: Int
    let logger: Logger

    /// Throws RESOURCE_EXHAUSTED, with `retry_after`, when the tenant is over its limit.
    func admit(tenant: String) async throws {
        guard perMinute > 0 else { return }
        let now = Date().timeIntervalSince1970
        let window = Int(now / 60)
        let count: Int64
        do {
            let key = try RedisKey.tenant(tenant, "kb", "search", String(window))
            let replies = try await redis.pipeline([["INCR", key], ["EXPIRE", key, "120", "NX"]])
            count = try replies[0].int()
        } catch {
            logger.warning("kb: search rate limit not checked", metadata: ["error": "\(error)"])
            return
        }
        guard count > perMinute else { return }
        let retryAfter = Duration.milliseconds(Int64(((Double(window + 1) * 60) - now) * 1000) + 1)
        throw RPCError.withDetails(
            .resourceExhausted,
            "the tenant's search rate limit of \(perMinute) a minute is used up; retry after the minute ends",
            reason: "RATE_LIMITED", retryAfter: retryAfter)
    }
}
