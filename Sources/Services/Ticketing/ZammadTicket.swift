import Foundation
import RPCModels

/// A ticket as Zammad's REST API returns it (`expand=true`: state, priority and group by name).
struct ZammadTicket: Sendable, Equatable {
    var id: Int64
    var number: Int64
    var title: String
    var state: String
    var priority: String
    var group: String
    var owner: String

    /// Reads Zammad's JSON object; nil when it lacks an id or number.
    init?(json: [String: Any]) {
        guard let id = Self.integer(json["id"]), let number = Self.integer(json["number"]) else { return nil }
        self.id = id
        self.number = number
        title = json["title"] as? String ?? ""
        state = json["state"] as? String ?? ""
        priority = json["priority"] as? String ?? ""
        group = json["group"] as? String ?? ""
        let owner = json["owner"] as? String ?? ""
        self.owner = owner == "-" ? "" : owner
    }

    /// Zammad sends ids as numbers and ticket numbers as strings ("31001").
    static func integer(_ value: Any?) -> Int64? {
        switch value {
        case let number as Int: Int64(number)
        case let number as Int64: number
        case let number as NSNumber: number.int64Value
        case let text as String: Int64(text)
        default: nil
        }
    }

    /// Our status for Zammad's state; `current` keeps RESOLVED, which Zammad records as closed.
    func status(keeping current: Agentplane_V1_TicketStatus = .unspecified) -> Agentplane_V1_TicketStatus {
        switch state.lowercased() {
        case "new", "open": return .open
        case let pending where pending.hasPrefix("pending"): return .pending
        case "closed", "merged", "removed": return current == .resolved ? .resolved : .closed
        default: return current == .unspecified ? .open : current
        }
    }

    /// Our priority for Zammad's ("1 low", "2 normal", "3 high").
    var ticketPriority: Agentplane_V1_TicketPriority {
        switch priority.first {
        case "1": .low
        case "3": .high
        case "4", "5": .urgent
        default: .normal
        }
    }

    /// Zammad's name for a priority; Zammad's default set has no "urgent", so it becomes "3 high".
    static func priorityName(_ priority: Agentplane_V1_TicketPriority) -> String {
        switch priority {
        case .low: "1 low"
        case .high, .urgent: "3 high"
        default: "2 normal"
        }
    }

    /// Zammad's state for a status. RESOLVED and CLOSED are both Zammad's "closed".
    static func stateName(_ status: Agentplane_V1_TicketStatus) -> String {
        switch status {
        case .pending: "pending reminder"
        case .resolved, .closed: "closed"
        default: "open"
        }
    }
}
