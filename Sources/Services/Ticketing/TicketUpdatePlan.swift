import RPCCore
import RPCModels

/// What an UpdateTicket request changes on a ticket, checked against the ticket's state.
struct TicketUpdatePlan: Sendable {
    /// The ticket with the requested fields changed.
    var updated: Agentplane_V1_Ticket
    /// Whether any field differs from the current ticket.
    var changesFields: Bool
    /// The comment to append, if any.
    var comment: Agentplane_V1_TicketComment?
    /// Tags added and removed, for backends that change tags one at a time.
    var addedTags: [String]
    var removedTags: [String]

    /// Checks the request's shape alone (before the ticket is read).
    static func validate(_ request: Agentplane_V1_UpdateTicketRequest) throws(RPCError) {
        if request.ticketID.isEmpty {
            throw RPCError.invalidField("ticket_id", code: "MISSING_FIELD", "ticket_id is required")
        }
        if case .UNRECOGNIZED = request.status {
            throw RPCError.invalidField("status", code: "UNKNOWN_VALUE", "status is not a known TicketStatus")
        }
        if case .UNRECOGNIZED = request.priority {
            throw RPCError.invalidField("priority", code: "UNKNOWN_VALUE", "priority is not a known TicketPriority")
        }
        if request.clearAssignee && !request.assignee.isEmpty {
            throw RPCError.invalidField(
                "assignee", code: "CONFLICT", "set either assignee or clear_assignee, not both")
        }
        let hasComment = !(request.comment?.body.isEmpty ?? true)
        let nothing =
            request.status == .unspecified && request.priority == .unspecified && request.title.isEmpty
            && request.assignee.isEmpty && !request.clearAssignee && request.addTags.isEmpty
            && request.removeTags.isEmpty && !hasComment
        if nothing {
            throw RPCError.withDetails(
                .invalidArgument,
                "nothing to change: set status, priority, title, assignee, clear_assignee, add_tags, remove_tags "
                    + "or a comment with a body",
                reason: "NOTHING_TO_CHANGE")
        }
    }

    /// The plan for `request` on `current`: FAILED_PRECONDITION for a closed ticket or a
    /// refused status change, ABORTED for a stale expected_revision.
    init(request: Agentplane_V1_UpdateTicketRequest, current: Agentplane_V1_Ticket) throws(RPCError) {
        if request.expectedRevision != 0 && request.expectedRevision != current.revision {
            throw RPCError.withDetails(
                .aborted,
                "expected_revision \(request.expectedRevision) is stale: the ticket is at revision "
                    + "\(current.revision); read it again and retry",
                reason: "REVISION_CONFLICT")
        }
        if current.status == .closed {
            throw RPCError.withDetails(
                .failedPrecondition, "ticket \(current.id) is CLOSED, which is final: it cannot be changed",
                reason: "TICKET_CLOSED")
        }
        var updated = current
        if request.status != .unspecified {
            guard StatusTransitions.allows(from: current.status, to: request.status) else {
                throw RPCError.withDetails(
                    .failedPrecondition,
                    "status cannot change from \(StatusTransitions.name(current.status)) to "
                        + "\(StatusTransitions.name(request.status)); allowed: OPEN <-> PENDING, "
                        + "OPEN/PENDING -> RESOLVED, RESOLVED -> OPEN, any non-closed -> CLOSED",
                    reason: "INVALID_STATUS_TRANSITION")
            }
            updated.status = request.status
        }
        if request.priority != .unspecified { updated.priority = request.priority }
        if !request.title.isEmpty { updated.title = request.title }
        if request.clearAssignee { updated.assignee = "" }
        if !request.assignee.isEmpty { updated.assignee = request.assignee }
        let removing = Set(request.removeTags)
        var tags = current.tags.filter { !removing.contains($0) }
        var added: [String] = []
        for tag in request.addTags where !tags.contains(tag) && !tag.isEmpty {
            tags.append(tag)
            added.append(tag)
        }
        updated.tags = tags
        addedTags = added
        removedTags = current.tags.filter { removing.contains($0) }
        self.updated = updated
        var unchangedComparison = updated
        unchangedComparison.comments = current.comments
        changesFields = unchangedComparison != current
        if let comment = request.comment, !comment.body.isEmpty {
            self.comment = comment
        } else {
            comment = nil
        }
    }
}
