import Foundation
import RPCModels

/// Sends an UpdateTicket plan to Zammad before it is recorded here, so the record never
/// claims a change Zammad refused.
enum ZammadUpdate {
    static func push(
        _ plan: TicketUpdatePlan, from current: Agentplane_V1_Ticket, author: String, id: Int64,
        via zammad: ZammadClient, _ connection: ZammadConnection
    ) async throws {
        var changes: [String: Any] = [:]
        let updated = plan.updated
        if updated.title != current.title { changes["title"] = updated.title }
        if updated.priority != current.priority { changes["priority"] = ZammadTicket.priorityName(updated.priority) }
        if updated.status != current.status {
            let state = ZammadTicket.stateName(updated.status)
            if ZammadTicket.stateName(current.status) != state { changes["state"] = state }
            if updated.status == .pending {
                // Zammad's pending states need a reminder time; a day ahead, as its UI suggests.
                let formatter = ISO8601DateFormatter()
                changes["pending_time"] = formatter.string(from: Date().addingTimeInterval(86_400))
            }
        }
        if updated.assignee != current.assignee {
            // Zammad's user 1 is its "-" (nobody) placeholder.
            if updated.assignee.isEmpty { changes["owner_id"] = 1 } else { changes["owner"] = updated.assignee }
        }
        if let comment = plan.comment {
            changes["article"] =
                [
                    "body": comment.body, "type": "note", "internal": comment.agentOnly, "content_type": "text/plain",
                    "subject": author,
                ] as [String: Any]
        }
        if !changes.isEmpty { _ = try await zammad.updateTicket(connection, id: id, changes: changes) }
        for tag in plan.addedTags { try await zammad.addTag(connection, ticketID: id, tag: tag) }
        for tag in plan.removedTags { try await zammad.removeTag(connection, ticketID: id, tag: tag) }
    }
}
