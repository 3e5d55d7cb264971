import Foundation
import RPCModels
import RuntimePostgres

/// Reads tickets and comments from the rows `TicketQueries` selects.
enum TicketRow {
    /// The columns every ticket query selects, timestamps as microseconds since 1970.
    static let columns = """
        id, number, backend, external_id, url, title, body, status, priority, requester, assignee, group_name,
        tags::text AS tags, conversation_id, run_id, revision, seq,
        (extract(epoch FROM created_at) * 1000000)::bigint AS created_us,
        (extract(epoch FROM updated_at) * 1000000)::bigint AS updated_us,
        (extract(epoch FROM closed_at) * 1000000)::bigint AS closed_us
        """

    /// The ticket in a row selected with `columns` (without comments).
    static func ticket(_ row: PostgresRow) throws -> Agentplane_V1_Ticket {
        var ticket = Agentplane_V1_Ticket()
        ticket.id = try row.decode("id")
        ticket.number = try row.decode("number")
        ticket.backend = Agentplane_V1_TicketBackend(rawValue: Int32(try row.decode("backend", as: Int.self)))
        ticket.externalID = try row.decode("external_id")
        ticket.url = try row.decode("url")
        ticket.title = try row.decode("title")
        ticket.body = try row.decode("body")
        ticket.status = Agentplane_V1_TicketStatus(rawValue: Int32(try row.decode("status", as: Int.self)))
        ticket.priority = Agentplane_V1_TicketPriority(rawValue: Int32(try row.decode("priority", as: Int.self)))
        ticket.requester = try row.decode("requester")
        ticket.assignee = try row.decode("assignee")
        ticket.groupName = try row.decode("group_name")
        ticket.tags = tags(fromJSON: try row.decode("tags"))
        ticket.conversationID = try row.decode("conversation_id")
        ticket.runID = try row.decode("run_id")
        ticket.revision = try row.decode("revision")
        ticket.createdAt = timestamp(microseconds: try row.decode("created_us"))
        ticket.updatedAt = timestamp(microseconds: try row.decode("updated_us"))
        ticket.closedAt = row["closed_us"].flatMap { Int64($0) }.map(timestamp(microseconds:))
        return ticket
    }

    /// The comment in a row of `ticket_comments`.
    static func comment(_ row: PostgresRow) throws -> Agentplane_V1_TicketComment {
        var comment = Agentplane_V1_TicketComment()
        comment.id = try row.decode("id")
        comment.author = try row.decode("author")
        comment.body = try row.decode("body")
        comment.agentOnly = try row.decode("agent_only")
        comment.createdAt = timestamp(microseconds: try row.decode("created_us"))
        return comment
    }

    /// Tags as the JSON array stored in the `tags` column.
    static func json(tags: [String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: tags)) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func tags(fromJSON text: String) -> [String] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String] ?? []
    }

    static func timestamp(microseconds: Int64) -> Google_Protobuf_Timestamp {
        let seconds = microseconds >= 0 ? microseconds / 1_000_000 : (microseconds - 999_999) / 1_000_000
        let remainder = microseconds - seconds * 1_000_000
        return Google_Protobuf_Timestamp(seconds: seconds, nanos: Int32(remainder * 1000))
    }
}
