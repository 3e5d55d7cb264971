import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimeSecurity

/// The TicketingService RPCs: checks requests, then works in one tenant-bound transaction per
/// call, calling Zammad from inside it when the ticket lives there.
struct TicketingHandler: Agentplane_V1_TicketingService.ServiceProtocol {
    let store: TicketStore
    let zammad: ZammadClient

    // MARK: CreateTicket

    func createTicket(request: Agentplane_V1_CreateTicketRequest, context: ServerContext) async throws
        -> Agentplane_V1_CreateTicketResponse
    {
        let caller = try Self.caller()
        let backend = try Self.backend(of: request.backendConfig)
        try CreateTicketValidation.check(request)
        let connection =
            backend == .zammad ? try ZammadConnection(request.backendConfig ?? .init(), needsGroup: true) : nil
        let key = request.idempotencyKey
        let fingerprint = CreateRequestFingerprint.of(request, backend: backend)
        let ticketID = UUID().uuidString.lowercased()
        let priority = request.priority == .unspecified ? .normal : request.priority
        let zammad = self.zammad

        let (ticket, replayed) = try await store.transaction(tenant: caller.tenantID) { queries in
            if !key.isEmpty,
                let record = try await queries.claim(key: key, requestHash: fingerprint, ticketID: ticketID)
            {
                guard record.requestHash == fingerprint else {
                    throw RPCError.withDetails(
                        .failedPrecondition,
                        "idempotency_key \"\(key)\" was already used with a different request; use a new key",
                        reason: "IDEMPOTENCY_KEY_REUSED")
                }
                guard let first = try await queries.ticket(id: record.ticketID) else {
                    throw RPCError(code: .internalError, message: "the ticket of idempotency_key \"\(key)\" is missing")
                }
                return (first, true)
            }
            var new = NewTicket(
                backend: backend, title: request.title, body: request.body, priority: priority,
                requester: request.requester, tags: Self.unique(request.tags), conversationID: request.conversationID,
                runID: request.runID)
            guard let connection else { return (try await queries.insert(new, id: ticketID), false) }

            // A retry after a lost response: the first attempt may have created the ticket, which
            // then carries the key's tag. Look before creating.
            let tag = CreateRequestFingerprint.zammadTag(tenant: caller.tenantID, key: key)
            var upstream: ZammadTicket?
            if !key.isEmpty, let id = try await zammad.tickets(connection, taggedWith: tag).first {
                upstream = try await zammad.ticket(connection, id: id)
            }
            let found = upstream != nil
            let created: ZammadTicket
            if let upstream {
                created = upstream
            } else {
                created = try await zammad.createTicket(
                    connection,
                    .init(
                        title: request.title, body: request.body, priority: priority, requester: request.requester,
                        tags: new.tags + (key.isEmpty ? [] : [tag])))
            }
            if found,
                let known = try await queries.ticket(
                    number: created.number, backend: .zammad, zammadBaseURL: connection.baseURL)
            {
                // Recorded before under a key since forgotten: the new key now names that ticket.
                try await queries.rebind(key: key, ticketID: known.id)
                return (known, true)
            }
            new.number = created.number
            new.externalID = String(created.id)
            new.url = connection.ticketURL(id: created.id)
            new.status = created.status()
            new.groupName = created.group.isEmpty ? connection.group : created.group
            new.assignee = created.owner
            return (try await queries.insert(new, id: ticketID), found)
        }
        var response = Agentplane_V1_CreateTicketResponse()
        response.ticket = ticket
        response.replayed = replayed
        return response
    }

    // MARK: GetTicket

    func getTicket(request: Agentplane_V1_GetTicketRequest, context: ServerContext) async throws
        -> Agentplane_V1_GetTicketResponse
    {
        let caller = try Self.caller()
        if request.ticketID.isEmpty {
            throw RPCError.invalidField("ticket_id", code: "MISSING_FIELD", "ticket_id (an id or a number) is required")
        }
        let backend = try Self.backend(of: request.backendConfig)
        let connection =
            backend == .zammad ? try ZammadConnection(request.backendConfig ?? .init(), needsGroup: false) : nil
        let zammad = self.zammad
        let ticket = try await store.transaction(tenant: caller.tenantID) { queries in
            guard
                var ticket = try await queries.ticket(
                    reference: request.ticketID, backend: backend, zammadBaseURL: connection?.baseURL,
                    locking: connection != nil)
            else { throw Self.notFound(request.ticketID) }
            if let connection, ticket.backend == .zammad, let id = Int64(ticket.externalID) {
                let upstream = try await zammad.ticket(connection, id: id)
                let tags = try await zammad.tags(connection, ticketID: id).filter { !$0.hasPrefix("agentplane_idem_") }
                var refreshed = ticket
                refreshed.title = upstream.title.isEmpty ? ticket.title : upstream.title
                refreshed.status = upstream.status(keeping: ticket.status)
                refreshed.priority = upstream.ticketPriority
                refreshed.groupName = upstream.group.isEmpty ? ticket.groupName : upstream.group
                refreshed.assignee = upstream.owner
                refreshed.tags = tags
                if refreshed != ticket { ticket = try await queries.save(refreshed) }
                // Zammad's first article is the ticket's body; the others are its comments,
                // including those written in Zammad itself.
                ticket.comments = Array(try await zammad.articles(connection, ticketID: id).dropFirst())
                return ticket
            }
            return try await queries.withComments(ticket)
        }
        var response = Agentplane_V1_GetTicketResponse()
        response.ticket = ticket
        return response
    }

    // MARK: ListTickets

    func listTickets(request: Agentplane_V1_ListTicketsRequest, context: ServerContext) async throws
        -> Agentplane_V1_ListTicketsResponse
    {
        let caller = try Self.caller()
        let size = try Pagination.pageSize(request.pageSize)
        for status in request.statuses {
            if case .UNRECOGNIZED = status {
                throw RPCError.invalidField("statuses", code: "UNKNOWN_VALUE", "statuses holds an unknown TicketStatus")
            }
        }
        if case .UNRECOGNIZED = request.priority {
            throw RPCError.invalidField("priority", code: "UNKNOWN_VALUE", "priority is not a known TicketPriority")
        }
        let filter = TicketFilter(request)
        var after: Int64?
        if let cursor = try Pagination.cursor(from: request.pageToken, filters: filter.canonicalText) {
            guard cursor.count == 1, let sequence = Int64(cursor[0]) else {
                throw RPCError.invalidField(
                    "page_token", code: "MALFORMED", "page_token is not one this service issued")
            }
            after = sequence
        }
        let rows = try await store.transaction(tenant: caller.tenantID) { queries in
            try await queries.list(filter, after: after, limit: size)
        }
        var response = Agentplane_V1_ListTicketsResponse()
        response.tickets = rows.prefix(size).map(\.0)
        if rows.count > size, let last = rows.prefix(size).last {
            response.nextPageToken = Pagination.token(cursor: [String(last.1)], filters: filter.canonicalText)
        }
        return response
    }

    // MARK: UpdateTicket

    func updateTicket(request: Agentplane_V1_UpdateTicketRequest, context: ServerContext) async throws
        -> Agentplane_V1_UpdateTicketResponse
    {
        let caller = try Self.caller()
        try TicketUpdatePlan.validate(request)
        let backend = try Self.backend(of: request.backendConfig)
        let connection =
            backend == .zammad ? try ZammadConnection(request.backendConfig ?? .init(), needsGroup: false) : nil
        let zammad = self.zammad
        let ticket = try await store.transaction(tenant: caller.tenantID) { queries in
            guard
                let current = try await queries.ticket(
                    reference: request.ticketID, backend: backend, zammadBaseURL: connection?.baseURL, locking: true)
            else { throw Self.notFound(request.ticketID) }
            let plan = try TicketUpdatePlan(request: request, current: current)
            let author = plan.comment.map { $0.author.isEmpty ? caller.effectiveUserID : $0.author } ?? ""
            if current.backend == .zammad {
                guard let connection, let id = Int64(current.externalID) else {
                    throw RPCError.withDetails(
                        .failedPrecondition,
                        "ticket \(current.id) lives in Zammad: send backend_config with its base_url and api_token",
                        reason: "BACKEND_CONFIG_REQUIRED")
                }
                try await ZammadUpdate.push(plan, from: current, author: author, id: id, via: zammad, connection)
            }
            var saved = current
            if plan.changesFields || plan.comment != nil {
                if let comment = plan.comment {
                    try await queries.addComment(
                        ticketID: current.id, author: author, body: comment.body, agentOnly: comment.agentOnly)
                }
                saved = try await queries.save(plan.updated)
            }
            if let connection, saved.backend == .zammad, let id = Int64(saved.externalID) {
                // As GetTicket shows them: Zammad's articles after the first.
                saved.comments = Array(try await zammad.articles(connection, ticketID: id).dropFirst())
                return saved
            }
            return try await queries.withComments(saved)
        }
        var response = Agentplane_V1_UpdateTicketResponse()
        response.ticket = ticket
        return response
    }

    // MARK: Helpers

    /// The caller: a service token, or a person with at least the member role.
    static func caller() throws(RPCError) -> AuthContext {
        guard let caller = AuthContext.current else {
            throw RPCError(code: .unauthenticated, message: "this call requires credentials")
        }
        if caller.role != .service { try AuthContext.require(minimum: .member) }
        return caller
    }

    /// The backend a call's config names; absent means the built-in store.
    static func backend(of config: Agentplane_V1_TicketBackendConfig?) throws(RPCError) -> Agentplane_V1_TicketBackend {
        switch config?.backend ?? .unspecified {
        case .unspecified, .builtin: return .builtin
        case .zammad: return .zammad
        case .UNRECOGNIZED:
            throw RPCError.invalidField(
                "backend_config.backend", code: "UNKNOWN_VALUE", "backend must be TICKET_BACKEND_BUILTIN or _ZAMMAD")
        }
    }

    static func notFound(_ reference: String) -> RPCError {
        RPCError(code: .notFound, message: "no ticket \"\(reference)\"")
    }

    static func unique(_ tags: [String]) -> [String] {
        var seen = Set<String>()
        return tags.filter { seen.insert($0).inserted }
    }
}
