import RPCCore
import RPCModels
import Runtime

/// The shape checks of CreateTicket, each naming the field to fix.
enum CreateTicketValidation {
    static let maximumTitle = 500
    static let maximumBody = 100_000
    static let maximumKey = 128
    static let maximumTags = 50
    static let maximumTag = 100

    static func check(_ request: Agentplane_V1_CreateTicketRequest) throws(RPCError) {
        if request.title.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw RPCError.invalidField("title", code: "MISSING_FIELD", "title must not be empty")
        }
        if request.title.count > maximumTitle {
            throw RPCError.invalidField("title", code: "TOO_LONG", "title has at most \(maximumTitle) characters")
        }
        if request.body.utf8.count > maximumBody {
            throw RPCError.invalidField("body", code: "TOO_LONG", "body has at most \(maximumBody) bytes")
        }
        if request.idempotencyKey.count > maximumKey {
            throw RPCError.invalidField(
                "idempotency_key", code: "TOO_LONG", "idempotency_key has at most \(maximumKey) characters")
        }
        if case .UNRECOGNIZED = request.priority {
            throw RPCError.invalidField("priority", code: "UNKNOWN_VALUE", "priority is not a known TicketPriority")
        }
        if request.tags.count > maximumTags {
            throw RPCError.invalidField("tags", code: "TOO_MANY", "at most \(maximumTags) tags")
        }
        for tag in request.tags where tag.isEmpty || tag.count > maximumTag || tag.contains(",") {
            throw RPCError.invalidField(
                "tags", code: "INVALID_TAG", "each tag has 1 to \(maximumTag) characters and no comma")
        }
    }
}
