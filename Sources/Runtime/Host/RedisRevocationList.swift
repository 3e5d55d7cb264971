import Foundation
import RuntimeRedis
import RuntimeSecurity

/// Revoked token ids in Redis, each kept until the token would have expired anyway, so the
/// list never outgrows the tokens still alive. Redis persists it (append-only file), so a
/// logout survives a restart.
struct RedisRevocationList: RevocationList {
    let redis: RedisPool

    func isRevoked(tokenID: String) async throws -> Bool {
        try await redis.send("EXISTS", .init(Self.key(tokenID))).int() == 1
    }

    func revoke(tokenID: String, until expiry: Date) async throws {
        let milliseconds = max(1000, Int((expiry.timeIntervalSinceNow * 1000).rounded(.up)))
        _ = try await redis.send("SET", .init(Self.key(tokenID)), "1", "PX", .init(milliseconds))
    }

    /// Token ids are global (random 128-bit), so the key is not tenant-scoped.
    static func key(_ tokenID: String) -> String { "agentplane:revoked:\(tokenID)" }
}
