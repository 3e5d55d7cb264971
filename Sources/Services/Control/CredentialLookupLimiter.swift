import Logging
import RPCCore
import Runtime
import RuntimeRedis
import Saturating

/// Limits the FAILED lookups of opaque credentials — refresh tokens and `apk_` API keys — per
/// client address: each unknown, revoked or expired one costs a database transaction, so a
/// source past `CREDENTIAL_FAILURES_PER_ADDRESS` failures within `CREDENTIAL_FAILURE_WINDOW` is
/// answered RESOURCE_EXHAUSTED (with retry_after) before the database is touched, valid
/// credentials included, until the window (counted from its first failure) ends. Successful
/// lookups are not counted.
///
/// When Redis cannot be reached the limiter lets lookups through (logged): the database still
/// decides every credential, and refusing every API key and refresh while Redis is down would
/// take the whole API down with it. (Login, which spends CPU on scrypt, fails closed instead.)
struct CredentialLookupLimiter: Sendable {
    let redis: RedisPool
    let limit: Int
    let window: Duration
    let logger: Logger

    /// Increments a counter and starts its window when it has none.
    static let failureScript = RedisScript(
        source: """
            local count = redis.call('INCR', KEYS[1])
            if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
            return count
            """)

    private static func key(_ address: String) -> String {
        "control:credentials:address:\(OpaqueCredential.sha256Hex(address))"
    }

    /// Throws RESOURCE_EXHAUSTED when `address` is past the limit of failed lookups.
    func check(address: String) async throws {
        let key = Self.key(address)
        let reply: [RedisReply]
        do {
            reply = try await redis.pipeline([["GET", key], ["PTTL", key]])
        } catch {
            logger.warning("credential lookup limiter unavailable; lookup allowed", metadata: ["error": "\(error)"])
            return
        }
        guard reply.count == 2, let count = try? reply[0].int(), count >= Int64(limit) else { return }
        let ttl = (try? reply[1].int()) ?? 1000
        throw RPCError.withDetails(
            .resourceExhausted, "too many unknown or revoked credentials from this address; try again later",
            reason: "CREDENTIAL_RATE_LIMITED", retryAfter: .milliseconds(max(1, ttl)))
    }

    /// Counts a failed lookup from `address`.
    func recordFailure(address: String) async {
        do {
            _ = try await redis.run(
                Self.failureScript, keys: [Self.key(address)], arguments: [max(1, window.saturatingMilliseconds)])
        } catch {
            logger.warning("cannot count a failed credential lookup", metadata: ["error": "\(error)"])
        }
    }
}
