import Foundation
import RPCCore
import Runtime
import RuntimeRedis
import Saturating

/// Counts sign-in attempts in Redis per (tenant slug, email) and per client address, BEFORE the
/// password is hashed: one script increments both counters and returns them, so a burst of
/// concurrent attempts cannot slip past the limit — at most the limit reach the hasher. Once
/// either counter is past its limit, Login answers RESOURCE_EXHAUSTED until the window ends
/// (the window starts at the first attempt). A successful sign-in clears the account counter
/// and takes its attempt back from the address counter, so both count failures in the end.
///
/// Fail closed: when Redis cannot be reached Login answers UNAVAILABLE, never unlimited. Login
/// runs before a tenant is known, so these keys live under `control:login:`.
struct LoginRateLimiter: Sendable {
    let redis: RedisPool
    let settings: ControlSettings

    /// Increments every key (setting its expiry when it has none) and returns, per key, the new
    /// count and the milliseconds left of its window.
    static let attemptScript = RedisScript(
        source: """
            local result = {}
            for i, key in ipairs(KEYS) do
              local count = redis.call('INCR', key)
              local ttl = redis.call('PTTL', key)
              if ttl < 0 then
                redis.call('PEXPIRE', key, ARGV[1])
                ttl = tonumber(ARGV[1])
              end
              result[2 * i - 1] = count
              result[2 * i] = ttl
            end
            return result
            """)

    /// Clears the account counter and takes one attempt back from the address counter (when one
    /// was counted).
    static let successScript = RedisScript(
        source: """
            redis.call('DEL', KEYS[1])
            if #KEYS > 1 and redis.call('EXISTS', KEYS[2]) == 1 and tonumber(redis.call('GET', KEYS[2])) > 0 then
              redis.call('DECR', KEYS[2])
            end
            return 1
            """)

    private func keys(slug: String, email: String, address: String?) -> [(key: String, limit: Int)] {
        let account = OpaqueCredential.sha256Hex(slug + "\u{0}" + email)
        var keys: [(key: String, limit: Int)] = [("control:login:account:\(account)", settings.loginMaxFailures)]
        if let address {
            let source = OpaqueCredential.sha256Hex(address)
            keys.append(("control:login:address:\(source)", settings.loginMaxFailuresPerAddress))
        }
        return keys
    }

    /// Counts this attempt; throws RESOURCE_EXHAUSTED (with retry_after) when it is past either
    /// limit, UNAVAILABLE when Redis cannot count it. Without an address only the account is
    /// counted (ChangePassword: the caller is signed in already).
    func admit(slug: String, email: String, address: String?) async throws {
        let keys = keys(slug: slug, email: email, address: address)
        let window = max(1, settings.loginWindow.saturatingMilliseconds)
        let counts: [Int64]
        do {
            counts = try await redis.run(Self.attemptScript, keys: keys.map(\.key), arguments: [window]).array()
                .map { try $0.int() }
        } catch {
            throw RPCError.withDetails(
                .unavailable, "sign-in is unavailable: its attempt counter cannot be reached; try again shortly",
                reason: "LOGIN_LIMITER_UNAVAILABLE")
        }
        guard counts.count == 2 * keys.count else {
            throw RPCError(code: .unavailable, message: "sign-in is unavailable: unexpected attempt counter reply")
        }
        for (index, limit) in keys.map(\.limit).enumerated() where counts[2 * index] > Int64(limit) {
            throw RPCError.withDetails(
                .resourceExhausted, "too many failed sign-in attempts; try again later", reason: "LOGIN_RATE_LIMITED",
                retryAfter: .milliseconds(max(1, counts[2 * index + 1])))
        }
    }

    /// Records a successful sign-in (or password check).
    func succeeded(slug: String, email: String, address: String?) async throws {
        _ = try await redis.run(Self.successScript, keys: keys(slug: slug, email: email, address: address).map(\.key))
    }
}
