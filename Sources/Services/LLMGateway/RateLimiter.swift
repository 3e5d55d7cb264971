import Foundation
import RPCCore
import Runtime
import RuntimeRedis

/// The limits in force for one tenant, after the platform defaults filled its zeros.
struct EffectiveLimits: Sendable, Equatable {
    var requestsPerMinute: Int
    var tokensPerMinute: Int
    /// 0: no daily limit.
    var tokensPerDay: Int

    init(_ config: ProviderConfiguration, settings: LLMGatewaySettings) {
        requestsPerMinute =
            config.requestsPerMinute > 0 ? Int(config.requestsPerMinute) : settings.defaultRequestsPerMinute
        tokensPerMinute = config.tokensPerMinute > 0 ? Int(config.tokensPerMinute) : settings.defaultTokensPerMinute
        tokensPerDay = config.tokensPerDay > 0 ? Int(config.tokensPerDay) : settings.defaultTokensPerDay
    }
}

/// Per-tenant token buckets in Redis, one for requests and one for tokens (each refilling its
/// per-minute limit evenly over a minute, holding at most one minute's worth), plus a counter of
/// tokens per UTC day. Each check and charge is one Lua script, so replicas share the buckets
/// and concurrent calls never overdraw them.
struct RateLimiter: Sendable {
    let redis: RedisPool

    /// Takes one request and `tokens` (the prompt estimate) if both buckets hold enough and the
    /// day's budget is not spent; otherwise takes nothing and answers how long to wait.
    static let acquireScript = RedisScript(
        source: """
            local now = tonumber(ARGV[1])
            local rpm = tonumber(ARGV[2])
            local tpm = tonumber(ARGV[3])
            local cost = tonumber(ARGV[4])
            local tpd = tonumber(ARGV[5])
            local until_midnight = tonumber(ARGV[6])
            local function level(key, capacity)
              local state = redis.call('HMGET', key, 'level', 'ts')
              local value = tonumber(state[1])
              local ts = tonumber(state[2])
              if value == nil or ts == nil then return capacity end
              return math.min(capacity, value + math.max(0, now - ts) * capacity / 60000)
            end
            local requests = level(KEYS[1], rpm)
            local tokens = level(KEYS[2], tpm)
            local need = math.min(cost, tpm)
            local wait = 0
            local reason = ''
            if requests < 1 then
              wait = math.ceil((1 - requests) * 60000 / rpm)
              reason = 'requests'
            end
            if tokens < need then
              local token_wait = math.ceil((need - tokens) * 60000 / tpm)
              if token_wait > wait then wait = token_wait; reason = 'tokens' end
            end
            if tpd > 0 then
              local used = tonumber(redis.call('GET', KEYS[3]) or '0')
              if used >= tpd then wait = math.max(wait, until_midnight); reason = 'daily' end
            end
            if wait > 0 then return {0, wait, reason} end
            redis.call('HSET', KEYS[1], 'level', tostring(requests - 1), 'ts', tostring(now))
            redis.call('PEXPIRE', KEYS[1], 120000)
            redis.call('HSET', KEYS[2], 'level', tostring(tokens - cost), 'ts', tostring(now))
            redis.call('PEXPIRE', KEYS[2], 120000)
            redis.call('INCRBY', KEYS[3], cost)
            redis.call('PEXPIRE', KEYS[3], until_midnight + 3600000)
            return {1, 0, ''}
            """)

    /// Charges tokens learnt after the call (the completion, or a correction of the estimate);
    /// the token bucket may go below zero, which delays the tenant's next calls.
    static let chargeScript = RedisScript(
        source: """
            local now = tonumber(ARGV[1])
            local tpm = tonumber(ARGV[2])
            local cost = tonumber(ARGV[3])
            local until_midnight = tonumber(ARGV[4])
            local state = redis.call('HMGET', KEYS[1], 'level', 'ts')
            local value = tonumber(state[1])
            local ts = tonumber(state[2])
            if value == nil or ts == nil then value = tpm; ts = now end
            value = math.min(tpm, value + math.max(0, now - ts) * tpm / 60000)
            redis.call('HSET', KEYS[1], 'level', tostring(value - cost), 'ts', tostring(now))
            redis.call('PEXPIRE', KEYS[1], 120000)
            if cost > 0 then
              redis.call('INCRBY', KEYS[2], cost)
              redis.call('PEXPIRE', KEYS[2], until_midnight + 3600000)
            end
            return 1
            """)

    private static func keys(tenant: String, now: Date) throws -> [String] {
        let day = String(Int64(now.timeIntervalSince1970 / 86400))
        return [
            try RedisKey.tenant(tenant, "llm", "bucket", "requests"),
            try RedisKey.tenant(tenant, "llm", "bucket", "tokens"),
            try RedisKey.tenant(tenant, "llm", "day", day),  // days since 1970-01-01, UTC,
        ]
    }

    private static func millisecondsUntilMidnight(_ now: Date) -> Int64 {
        let seconds = now.timeIntervalSince1970
        let nextMidnight = (seconds / 86400).rounded(.down) * 86400 + 86400
        return Int64(((nextMidnight - seconds) * 1000).rounded(.up))
    }

    /// Takes one request and `tokens`, or throws RESOURCE_EXHAUSTED with when to retry.
    func acquire(tenant: String, tokens: Int, limits: EffectiveLimits) async throws {
        let now = Date()
        let reply = try await redis.run(
            Self.acquireScript, keys: try Self.keys(tenant: tenant, now: now),
            arguments: [
                Int64(now.timeIntervalSince1970 * 1000), limits.requestsPerMinute, limits.tokensPerMinute, tokens,
                limits.tokensPerDay, Self.millisecondsUntilMidnight(now),
            ]
        ).array()
        guard reply.count == 3, try reply[0].int() == 0 else { return }
        let wait = Duration.milliseconds(max(1, try reply[1].int()))
        let which =
            switch try reply[2].string() {
            case "requests": "\(limits.requestsPerMinute) requests per minute"
            case "daily": "\(limits.tokensPerDay) tokens per day"
            default: "\(limits.tokensPerMinute) tokens per minute"
            }
        var error = RPCError.withDetails(
            .resourceExhausted, "this tenant's limit of \(which) is reached; retry in \(wait.milliseconds) ms",
            reason: "RATE_LIMITED", retryAfter: wait)
        error.metadata.addString(String(wait.milliseconds), forKey: "retry-after-ms")
        throw error
    }

    /// Charges `tokens` more (may be negative to give back an over-estimate).
    func charge(tenant: String, tokens: Int, limits: EffectiveLimits) async throws {
        guard tokens != 0 else { return }
        let now = Date()
        let keys = try Self.keys(tenant: tenant, now: now)
        _ = try await redis.run(
            Self.chargeScript, keys: [keys[1], keys[2]],
            arguments: [
                Int64(now.timeIntervalSince1970 * 1000), limits.tokensPerMinute, tokens,
                Self.millisecondsUntilMidnight(now),
            ])
    }
}
