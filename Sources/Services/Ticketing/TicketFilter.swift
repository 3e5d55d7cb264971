import RPCModels

/// The filters of a ListTickets request, in a canonical form that page tokens are bound to.
struct TicketFilter: Sendable, Equatable {
    var statuses: [Agentplane_V1_TicketStatus]
    var priority: Agentplane_V1_TicketPriority
    var requester: String
    var assignee: String
    var tags: [String]
    var conversationID: String
    var query: String

    init(_ request: Agentplane_V1_ListTicketsRequest) {
        statuses = Array(Set(request.statuses.map(\.rawValue))).sorted().map(Agentplane_V1_TicketStatus.init(rawValue:))
        priority = request.priority
        requester = request.requester
        assignee = request.assignee
        tags = Array(Set(request.tags)).sorted()
        conversationID = request.conversationID
        query = request.query
    }

    /// Text that changes whenever a filter does (page tokens carry its fingerprint).
    var canonicalText: String {
        [
            statuses.map { String($0.rawValue) }.joined(separator: ","), String(priority.rawValue), requester,
            assignee, tags.joined(separator: "\u{2}"), conversationID, query,
        ].joined(separator: "\u{3}")
    }

    /// `text` with LIKE's wildcards and escape character taken literally.
    static func escapeLike(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if character == "\\" || character == "%" || character == "_" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
