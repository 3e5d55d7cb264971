import Foundation
import RPCModels
import RuntimePostgres
import Saturating

/// Deletes what a tenant's `conversation_retention` says: conversations without activity (a
/// message) for longer than the retention, with their messages (the foreign key cascades). A
/// conversation with a run in progress (RUNNING) is kept until the run ends. Every control
/// replica sweeps every `CONVERSATION_RETENTION_SWEEP_INTERVAL`; concurrent sweeps are harmless.
struct ConversationRetention: Sendable {
    let context: ControlContext
    /// Conversations deleted per transaction; a tenant's sweep repeats until fewer are left.
    static let batch = 500
    /// The longest retention applied (a century); a longer one keeps conversations as long.
    static let longestRetention = Duration.seconds(100 * 365 * 86_400)

    /// Sweeps at start-up and then every interval, until cancelled.
    func run() async {
        while !Task.isCancelled {
            do {
                let deleted = try await sweep()
                if deleted > 0 {
                    context.logger.info("deleted conversations past their retention", metadata: ["count": "\(deleted)"])
                }
            } catch is CancellationError {
                return
            } catch {
                context.logger.error("conversation retention sweep failed", metadata: ["error": "\(error)"])
            }
            do {
                try await Task.sleep(for: context.settings.conversationRetentionSweepInterval)
            } catch {
                return
            }
        }
    }

    /// Deletes every tenant's conversations idle past its retention; how many were deleted.
    @discardableResult
    func sweep() async throws -> Int {
        let tenants = try await context.postgres.transaction { session in
            try await session.query("SELECT id, settings FROM control.tenants").map { row in
                let settings = try? Agentplane_V1_TenantSettings(
                    serializedBytes: try row.decode("settings", as: [UInt8].self))
                return (try row.decode("id", as: String.self), settings?.conversationRetention?.duration ?? .zero)
            }
        }
        var total = 0
        for (tenant, retention) in tenants where retention > .zero {
            let milliseconds = min(retention, Self.longestRetention).saturatingMilliseconds
            while !Task.isCancelled {
                let deleted = try await context.transaction(tenant: tenant) { session in
                    try await session.query(
                        """
                        DELETE FROM control.conversations WHERE tenant_id = $1 AND (tenant_id, id) IN (
                            SELECT tenant_id, id FROM control.conversations
                            WHERE tenant_id = $1 AND status <> $2
                              AND last_activity_at < now() - $3::int8 * interval '1 millisecond'
                            LIMIT $4)
                        RETURNING id
                        """, tenant, Int(Agentplane_V1_ConversationStatus.running.rawValue), milliseconds, Self.batch
                    ).count
                }
                total = Saturating.add(total, deleted)
                if deleted < Self.batch { break }
            }
        }
        return total
    }
}
