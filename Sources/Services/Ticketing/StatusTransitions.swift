import RPCModels

/// The allowed status changes of UpdateTicket (ticketing.proto): OPEN <-> PENDING,
/// OPEN/PENDING -> RESOLVED, RESOLVED -> OPEN, any non-closed -> CLOSED; CLOSED is final.
enum StatusTransitions {
    /// Whether a ticket in `from` may move to `to` (staying put is always allowed).
    static func allows(from: Agentplane_V1_TicketStatus, to: Agentplane_V1_TicketStatus) -> Bool {
        if from == to { return true }
        switch (from, to) {
        case (.open, .pending), (.pending, .open): return true
        case (.open, .resolved), (.pending, .resolved): return true
        case (.resolved, .open): return true
        case (.open, .closed), (.pending, .closed), (.resolved, .closed): return true
        default: return false
        }
    }

    /// The status's name as the proto spells it, for messages.
    static func name(_ status: Agentplane_V1_TicketStatus) -> String {
        switch status {
        case .open: "OPEN"
        case .pending: "PENDING"
        case .resolved: "RESOLVED"
        case .closed: "CLOSED"
        case .unspecified: "UNSPECIFIED"
        case .UNRECOGNIZED(let number): "\(number)"
        }
    }
}
