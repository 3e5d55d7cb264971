import Foundation
import RPCCore
import Runtime
import RuntimeRedis

/// Counts failed logins in Redis per (tenant slug, email) and per client address; once either
/// reaches its limit, Login answers RESOURCE_EXHAUSTED until the window ends. Login runs before
/// a tenant is known, so these keys live under `control:login:` rather than a tenant's prefix.
struct LoginRateLimiter: Sendable {
    let redis: RedisPool
    let settings: ControlSettings

    private func keys(slug: String, email: String, peer: String) -> [(key: String, limit: Int)] {
        let account = OpaqueCredential.sha256Hex(slug + "\u{0}" + email)
        let address = OpaqueCredential.sha256Hex(Self.address(of: peer))
        return [
            ("control:login:account:\(account)", settings.loginMaxFailures),
            ("control:login:address:\(address)", settings.loginMaxFailuresPerAddress),
        ]
    }

    /// Throws RESOURCE_EXHAUSTED (with retry_after) when a limit is already reached.
    func check(slug: String, email: String, peer: String) async throws {
        for (key, limit) in keys(slug: slug, email: email, peer: peer) {
            let count = (try? await redis.send("GET", key).int()) ?? 0
            guard count >= limit else { continue }
            let ttl = max(1, (try? await redis.send("PTTL", key).int()) ?? 1000)
            throw RPCError.withDetails(
                .resourceExhausted, "too many failed sign-in attempts; try again later", reason: "LOGIN_RATE_LIMITED",
                retryAfter: .milliseconds(ttl))
        }
    }

    func recordFailure(slug: String, email: String, peer: String) async throws {
        let window = Int(settings.loginWindow.components.seconds)
        for (key, _) in keys(slug: slug, email: email, peer: peer) {
            _ = try await redis.pipeline([["INCR", key], ["EXPIRE", key, String(window), "NX"]])
        }
    }

    func recordSuccess(slug: String, email: String, peer: String) async throws {
        _ = try await redis.send("DEL", keys(slug: slug, email: email, peer: peer)[0].key)
    }

    /// `ipv4:127.0.0.1:5000` → `ipv4:127.0.0.1`: the address without its port.
    static func address(of peer: String) -> String {
        guard let colon = peer.lastIndex(of: ":") else { return peer }
        return String(peer[..<colon])
    }
}
