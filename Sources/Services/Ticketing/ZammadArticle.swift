import Foundation
import RPCModels

/// Zammad's ticket articles (the messages of a ticket) read as comments.
enum ZammadArticle {
    /// The comment for an article of GET /api/v1/ticket_articles/by_ticket/{id}; nil without an id.
    static func comment(from json: [String: Any]) -> Agentplane_V1_TicketComment? {
        guard let id = ZammadTicket.integer(json["id"]) else { return nil }
        var comment = Agentplane_V1_TicketComment()
        comment.id = "zammad-article-\(id)"
        let from = json["from"] as? String ?? ""
        comment.author = from.isEmpty ? json["created_by"] as? String ?? "" : from
        comment.body = json["body"] as? String ?? ""
        comment.agentOnly = json["internal"] as? Bool ?? false
        comment.createdAt = (json["created_at"] as? String).flatMap(date(from:)).map(
            Google_Protobuf_Timestamp.init(date:))
        return comment
    }

    /// Zammad's times: ISO 8601 in UTC, usually with milliseconds.
    static func date(from text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
