import Foundation
import Logging
import RuntimeRedis

/// Appends domain events (`agent.created`, `user.deleted`, ...) to the tenant's capped Redis
/// stream `t:{tenant}:events`, after the change committed. An event that cannot be written is
/// logged, never failing a change that already happened.
struct DomainEvents: Sendable {
    let redis: RedisPool
    let logger: Logger
    /// Approximate length the stream is trimmed to.
    static let maximumLength = 10_000

    func publish(tenant: String, type: String, subject: String, actor: String, fields: [String: String] = [:]) async {
        do {
            let key = try RedisKey.tenant(tenant, "events")
            var arguments: [any RedisArgumentConvertible] = [
                "XADD", key, "MAXLEN", "~", String(Self.maximumLength), "*", "type", type, "subject", subject,
                "actor", actor, "at", String(Int64(Date().timeIntervalSince1970 * 1000)),
            ]
            for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
                arguments.append(name)
                arguments.append(value)
            }
            _ = try await redis.send(arguments)
        } catch {
            logger.warning("domain event not recorded", metadata: ["type": "\(type)", "error": "\(error)"])
        }
    }
}
