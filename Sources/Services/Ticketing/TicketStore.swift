import Foundation
import RPCCore
import RPCModels
import RuntimePostgres
import Saturating

/// The service's Postgres tables, always used inside a tenant-bound transaction so that
/// row-level security checks every statement a second time.
struct TicketStore: Sendable {
    let pool: PostgresPool
    let settings: TicketingSettings

    /// Runs `body` in one transaction bound to `tenant`: everything it wrote commits together,
    /// or nothing does.
    func transaction<R: Sendable>(
        tenant: String, _ body: (TicketQueries) async throws -> R
    ) async throws -> R {
        try await pool.transaction(tenant: tenant) { session in
            try await body(TicketQueries(session: session, tenant: tenant, settings: settings))
        }
    }

    /// Runs `body` in a transaction bound to `tenant` until it returns a value. `body` returns
    /// nil when another call holds the claim it needs; then this waits, holding no connection,
    /// and runs it again — at most for one claim lease and a margin (by then the other call has
    /// finished or its claim has expired), otherwise ABORTED.
    func untilClaimed<R: Sendable>(
        tenant: String, what: String, _ body: (TicketQueries) async throws -> R?
    ) async throws -> R {
        let giveUp = ContinuousClock.now + settings.claimLease + .seconds(5)
        var pause = Duration.milliseconds(20)
        while true {
            if let result = try await transaction(tenant: tenant, body) { return result }
            guard ContinuousClock.now + pause < giveUp else {
                throw RPCError(code: .aborted, message: "another call is still working on \(what) in Zammad; retry")
            }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(250))
        }
    }

    /// Ends a claim in a transaction of its own, even when the calling task is cancelled; a
    /// failure is left to the claim's lease.
    func releaseClaim(tenant: String, _ name: String, token: UUID) async {
        let store = self
        _ = await Task {
            try? await store.transaction(tenant: tenant) { try await $0.releaseClaim(name, token: token) }
        }.value
    }
}

/// A ticket as CreateTicket is about to record it; the store adds id, number (built-in),
/// revision and times.
struct NewTicket: Sendable {
    var backend: Agentplane_V1_TicketBackend
    /// Zammad's number; nil for a built-in ticket, which gets the tenant's next one.
    var number: Int64?
    var externalID = ""
    var url = ""
    var title: String
    var body: String
    var status: Agentplane_V1_TicketStatus = .open
    var priority: Agentplane_V1_TicketPriority
    var requester: String
    var assignee = ""
    var groupName = ""
    var tags: [String]
    var conversationID: String
    var runID: String
}

/// What an idempotency key was first used for.
struct IdempotencyRecord: Sendable {
    var requestHash: String
    var ticketID: String
}

/// The statements of one transaction, all filtered by its tenant.
struct TicketQueries: Sendable {
    let session: PostgresSession
    let tenant: String
    let settings: TicketingSettings

    // MARK: Idempotency

    /// Claims `key` for a new ticket with id `ticketID`, or returns the record of the call that
    /// claimed it first. A concurrent call with the same key waits here until the first one's
    /// transaction ends; keys older than 24 hours are forgotten first.
    func claim(key: String, requestHash: String, ticketID: String) async throws -> IdempotencyRecord? {
        _ = try await session.query(
            "DELETE FROM ticketing.idempotency_keys WHERE tenant_id = $1 AND created_at < now() - interval '24 hours'",
            tenant)
        let inserted = try await session.query(
            """
            INSERT INTO ticketing.idempotency_keys (tenant_id, key, request_hash, ticket_id) VALUES ($1, $2, $3, $4)
            ON CONFLICT (tenant_id, key) DO NOTHING RETURNING key
            """, tenant, key, requestHash, ticketID)
        if !inserted.isEmpty { return nil }
        let rows = try await session.query(
            "SELECT request_hash, ticket_id FROM ticketing.idempotency_keys WHERE tenant_id = $1 AND key = $2",
            tenant, key)
        guard let row = rows.first else {
            throw PostgresError(code: .serializationFailure, message: "idempotency key vanished while claimed")
        }
        return IdempotencyRecord(requestHash: try row.decode("request_hash"), ticketID: try row.decode("ticket_id"))
    }

    /// The record of an idempotency key used within the last 24 hours, if any.
    func idempotencyRecord(key: String) async throws -> IdempotencyRecord? {
        let rows = try await session.query(
            """
            SELECT request_hash, ticket_id FROM ticketing.idempotency_keys
            WHERE tenant_id = $1 AND key = $2 AND created_at >= now() - interval '24 hours'
            """, tenant, key)
        return try rows.first.map {
            IdempotencyRecord(requestHash: try $0.decode("request_hash"), ticketID: try $0.decode("ticket_id"))
        }
    }

    // MARK: Claims (work with Zammad in progress)

    /// Claims `name` for `token` until `lease` from now: true when it was free, had expired, or
    /// is already this token's; false while another call holds it.
    func acquireClaim(_ name: String, token: UUID, lease: Duration) async throws -> Bool {
        let rows = try await session.query(
            """
            INSERT INTO ticketing.claims (tenant_id, name, token, expires_at)
            VALUES ($1, $2, $3::uuid, now() + $4::int8 * interval '1 millisecond')
            ON CONFLICT (tenant_id, name) DO UPDATE SET token = EXCLUDED.token, expires_at = EXCLUDED.expires_at
            WHERE ticketing.claims.expires_at <= now() OR ticketing.claims.token = EXCLUDED.token
            RETURNING name
            """, tenant, name, token.uuidString, lease.saturatingMilliseconds)
        return !rows.isEmpty
    }

    /// Ends the claim on `name` if it is still `token`'s.
    func releaseClaim(_ name: String, token: UUID) async throws {
        _ = try await session.query(
            "DELETE FROM ticketing.claims WHERE tenant_id = $1 AND name = $2 AND token = $3::uuid",
            tenant, name, token.uuidString)
    }

    /// Points a key claimed in this transaction at an existing ticket instead of a new one.
    func rebind(key: String, ticketID: String) async throws {
        _ = try await session.query(
            "UPDATE ticketing.idempotency_keys SET ticket_id = $3 WHERE tenant_id = $1 AND key = $2",
            tenant, key, ticketID)
    }

    // MARK: Tickets

    /// Records a new ticket under `id`; built-in tickets get the tenant's next number.
    func insert(_ new: NewTicket, id: String) async throws -> Agentplane_V1_Ticket {
        var number = new.number ?? 0
        var url = new.url
        if new.number == nil {
            let rows = try await session.query(
                """
                INSERT INTO ticketing.ticket_counters (tenant_id, last_number) VALUES ($1, 1)
                ON CONFLICT (tenant_id) DO UPDATE SET last_number = ticketing.ticket_counters.last_number + 1
                RETURNING last_number
                """, tenant)
            number = try rows[0].decode("last_number")
            url = settings.builtinURL(id: id, number: number)
        }
        let closed = new.status == .closed
        _ = try await session.query(
            """
            INSERT INTO ticketing.tickets (tenant_id, id, number, backend, external_id, url, title, body, status,
                priority, requester, assignee, group_name, tags, conversation_id, run_id, closed_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15, $16,
                CASE WHEN $17 THEN now() END)
            """,
            [
                tenant, id, number, Int(new.backend.rawValue), new.externalID, url, new.title, new.body,
                Int(new.status.rawValue), Int(new.priority.rawValue), new.requester, new.assignee, new.groupName,
                TicketRow.json(tags: new.tags), new.conversationID, new.runID, closed,
            ])
        guard let ticket = try await ticket(id: id) else {
            throw PostgresError(code: .server, message: "inserted ticket \(id) not readable")
        }
        return ticket
    }

    /// The ticket with `id`, without comments; `locking` holds it until the transaction ends.
    func ticket(id: String, locking: Bool = false) async throws -> Agentplane_V1_Ticket? {
        let rows = try await session.query(
            "SELECT \(TicketRow.columns) FROM ticketing.tickets WHERE tenant_id = $1 AND id = $2"
                + (locking ? " FOR UPDATE" : ""), tenant, id)
        return try rows.first.map(TicketRow.ticket)
    }

    /// The ticket with a number in a backend, without comments. Zammad numbers are only unique
    /// per instance, so `zammadBaseURL` picks the instance (its tickets' links start with it).
    func ticket(
        number: Int64, backend: Agentplane_V1_TicketBackend, zammadBaseURL: String? = nil, locking: Bool = false
    ) async throws -> Agentplane_V1_Ticket? {
        var sql =
            "SELECT \(TicketRow.columns) FROM ticketing.tickets WHERE tenant_id = $1 AND backend = $2 AND number = $3"
        var parameters: [(any PostgresEncodable)?] = [tenant, Int(backend.rawValue), number]
        if let zammadBaseURL {
            parameters.append(TicketFilter.escapeLike(zammadBaseURL) + "/%")
            sql += " AND url LIKE $4"
        }
        sql += " ORDER BY seq DESC LIMIT 1" + (locking ? " FOR UPDATE" : "")
        return try await session.query(sql, parameters).first.map(TicketRow.ticket)
    }

    /// The ticket `reference` names: its id, or its number (decimal) in `backend`.
    func ticket(
        reference: String, backend: Agentplane_V1_TicketBackend, zammadBaseURL: String? = nil, locking: Bool = false
    ) async throws -> Agentplane_V1_Ticket? {
        if let number = Int64(reference), !reference.hasPrefix("+"), !reference.hasPrefix("-") {
            return try await ticket(number: number, backend: backend, zammadBaseURL: zammadBaseURL, locking: locking)
        }
        return try await ticket(id: reference, locking: locking)
    }

    /// The comments of a ticket, oldest first.
    func comments(ticketID: String) async throws -> [Agentplane_V1_TicketComment] {
        try await session.query(
            """
            SELECT id, author, body, agent_only, (extract(epoch FROM created_at) * 1000000)::bigint AS created_us
            FROM ticketing.ticket_comments WHERE tenant_id = $1 AND ticket_id = $2 ORDER BY seq
            """, tenant, ticketID
        ).map(TicketRow.comment)
    }

    /// A ticket with its comments.
    func withComments(_ ticket: Agentplane_V1_Ticket) async throws -> Agentplane_V1_Ticket {
        var ticket = ticket
        ticket.comments = try await comments(ticketID: ticket.id)
        return ticket
    }

    /// Writes `ticket`'s mutable fields, bumping the revision; sets `closed_at` when it closes.
    func save(_ ticket: Agentplane_V1_Ticket) async throws -> Agentplane_V1_Ticket {
        _ = try await session.query(
            """
            UPDATE ticketing.tickets SET title = $3, status = $4::smallint, priority = $5::smallint,
                assignee = $6, tags = $7::jsonb, group_name = $8, revision = revision + 1, updated_at = now(),
                closed_at = CASE WHEN $4::smallint = 4 THEN coalesce(closed_at, now()) END
            WHERE tenant_id = $1 AND id = $2
            """,
            [
                tenant, ticket.id, ticket.title, Int(ticket.status.rawValue), Int(ticket.priority.rawValue),
                ticket.assignee, TicketRow.json(tags: ticket.tags), ticket.groupName,
            ])
        guard let saved = try await self.ticket(id: ticket.id) else {
            throw PostgresError(code: .server, message: "updated ticket \(ticket.id) not readable")
        }
        return saved
    }

    /// Appends a comment to a ticket.
    func addComment(ticketID: String, author: String, body: String, agentOnly: Bool) async throws {
        _ = try await session.query(
            """
            INSERT INTO ticketing.ticket_comments (tenant_id, id, ticket_id, author, body, agent_only)
            VALUES ($1, $2, $3, $4, $5, $6)
            """, tenant, UUID().uuidString.lowercased(), ticketID, author, body, agentOnly)
    }

    /// One page of tickets matching `filter`, newest first, after the ticket with sequence
    /// number `after`; one more row than `limit` tells whether a next page exists.
    func list(_ filter: TicketFilter, after: Int64?, limit: Int) async throws -> [(Agentplane_V1_Ticket, Int64)] {
        var conditions = ["tenant_id = $1"]
        var parameters: [(any PostgresEncodable)?] = [tenant]
        func bind(_ value: any PostgresEncodable) -> String {
            parameters.append(value)
            return "$\(parameters.count)"
        }
        if !filter.statuses.isEmpty {
            let list = "{" + filter.statuses.map { String($0.rawValue) }.joined(separator: ",") + "}"
            conditions.append("status = ANY(\(bind(list))::smallint[])")
        }
        if filter.priority != .unspecified {
            conditions.append("priority = \(bind(Int(filter.priority.rawValue)))")
        }
        if !filter.requester.isEmpty { conditions.append("requester = \(bind(filter.requester))") }
        if !filter.assignee.isEmpty { conditions.append("assignee = \(bind(filter.assignee))") }
        if !filter.tags.isEmpty { conditions.append("tags @> \(bind(TicketRow.json(tags: filter.tags)))::jsonb") }
        if !filter.conversationID.isEmpty {
            conditions.append("conversation_id = \(bind(filter.conversationID))")
        }
        if !filter.query.isEmpty {
            let pattern = "%" + TicketFilter.escapeLike(filter.query) + "%"
            let placeholder = bind(pattern)
            conditions.append("(title ILIKE \(placeholder) OR body ILIKE \(placeholder))")
        }
        if let after { conditions.append("seq < \(bind(after))") }
        let sql = """
            SELECT \(TicketRow.columns) FROM ticketing.tickets WHERE \(conditions.joined(separator: " AND "))
            ORDER BY seq DESC LIMIT \(bind(limit + 1))
            """
        return try await session.query(sql, parameters).map { row in
            (try TicketRow.ticket(row), try row.decode("seq", as: Int64.self))
        }
    }
}
