import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimeSecurity

/// The TicketingService RPCs: checks requests, then works in short tenant-bound transactions.
/// Zammad is always called outside them: a change in Zammad first claims its idempotency key
/// or ticket (see `TicketStore.untilClaimed`), then calls Zammad holding no connection, then
/// records the result.
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
        let key = request.idempotencyKey
        let fingerprint = CreateRequestFingerprint.of(request, backend: backend)
        let ticketID = UUID().uuidString.lowercased()
        let priority = request.priority == .unspecified ? .normal : request.priority
        let new = NewTicket(
            backend: backend, title: request.title, body: request.body, priority: priority,
            requester: request.requester, tags: Self.unique(request.tags), conversationID: request.conversationID,
            runID: request.runID)
        let created: (ticket: Agentplane_V1_Ticket, replayed: Bool)
        if backend == .zammad {
            let connection = try ZammadConnection(request.backendConfig ?? .init(), needsGroup: true)
            created = try await createInZammad(
                new, id: ticketID, request: request, fingerprint: fingerprint, tenant: caller.tenantID, connection)
        } else {
            // No outside call: one transaction. Identical concurrent calls wait on the key's row.
            created = try await store.transaction(tenant: caller.tenantID) { queries in
                if !key.isEmpty,
                    let record = try await queries.claim(key: key, requestHash: fingerprint, ticketID: ticketID)
                {
                    return try await Self.replay(record, fingerprint: fingerprint, key: key, queries)
                }
                return (try await queries.insert(new, id: ticketID), false)
            }
        }
        var response = Agentplane_V1_CreateTicketResponse()
        response.ticket = created.ticket
        response.replayed = created.replayed
        return response
    }

    /// A Zammad ticket: the key is claimed first (an identical call in flight is waited for, a
    /// recorded one replayed), Zammad is called holding no connection, and the ticket and key
    /// are recorded last. A failure ends the claim, so a failed attempt never binds the key.
    private func createInZammad(
        _ new: NewTicket, id ticketID: String, request: Agentplane_V1_CreateTicketRequest, fingerprint: String,
        tenant: String, _ connection: ZammadConnection
    ) async throws -> (Agentplane_V1_Ticket, Bool) {
        let key = request.idempotencyKey
        let claimName = "key:" + key
        let token = UUID()
        var deadline: ContinuousClock.Instant?
        if !key.isEmpty {
            let lease = store.settings.claimLease
            let start = try await store.untilClaimed(tenant: tenant, what: "idempotency_key \"\(key)\"") {
                queries -> ClaimStart? in
                if let record = try await queries.idempotencyRecord(key: key) {
                    return .replay(try await Self.replay(record, fingerprint: fingerprint, key: key, queries).0)
                }
                let end = ContinuousClock.now + lease
                guard try await queries.acquireClaim(claimName, token: token, lease: lease) else { return nil }
                return .claimed(until: end)
            }
            switch start {
            case .replay(let ticket): return (ticket, true)
            case .claimed(let end): deadline = end
            }
        }

        let zammad = self.zammad.bounded(by: deadline)
        let tag = CreateRequestFingerprint.zammadTag(tenant: tenant, key: key)
        let created: ZammadTicket
        let found: Bool
        do {
            // A retry after a lost response: the first attempt may have created the ticket, which
            // then carries the key's tag. Look before creating.
            var upstream: ZammadTicket?
            if !key.isEmpty, let id = try await zammad.tickets(connection, taggedWith: tag).first {
                upstream = try await zammad.ticket(connection, id: id)
            }
            found = upstream != nil
            if let upstream {
                created = upstream
            } else {
                created = try await zammad.createTicket(
                    connection,
                    .init(
                        title: new.title, body: new.body, priority: new.priority, requester: new.requester,
                        tags: new.tags + (key.isEmpty ? [] : [tag])))
            }
        } catch {
            if !key.isEmpty { await store.releaseClaim(tenant: tenant, claimName, token: token) }
            throw error
        }

        var recorded = new
        recorded.number = created.number
        recorded.externalID = String(created.id)
        recorded.url = connection.ticketURL(id: created.id)
        recorded.status = created.status()
        recorded.groupName = created.group.isEmpty ? connection.group : created.group
        recorded.assignee = created.owner
        let toRecord = recorded
        do {
            return try await store.transaction(tenant: tenant) { queries in
                if !key.isEmpty {
                    try await queries.releaseClaim(claimName, token: token)
                    if let record = try await queries.claim(key: key, requestHash: fingerprint, ticketID: ticketID) {
                        // Recorded meanwhile by a call that took over an expired claim.
                        return try await Self.replay(record, fingerprint: fingerprint, key: key, queries)
                    }
                }
                if found,
                    let known = try await queries.ticket(
                        number: created.number, backend: .zammad, zammadBaseURL: connection.baseURL)
                {
                    // Recorded before under a key since forgotten: the new key now names that ticket.
                    if !key.isEmpty { try await queries.rebind(key: key, ticketID: known.id) }
                    return (known, true)
                }
                return (try await queries.insert(toRecord, id: ticketID), found)
            }
        } catch {
            if !key.isEmpty { await store.releaseClaim(tenant: tenant, claimName, token: token) }
            throw error
        }
    }

    /// How a claimed piece of work starts: answered from what is recorded, or claimed until a time.
    private enum ClaimStart: Sendable {
        case replay(Agentplane_V1_Ticket)
        case claimed(until: ContinuousClock.Instant)
    }

    /// The ticket an earlier call with the same key created; FAILED_PRECONDITION when that call
    /// was another request.
    private static func replay(
        _ record: IdempotencyRecord, fingerprint: String, key: String, _ queries: TicketQueries
    ) async throws -> (Agentplane_V1_Ticket, Bool) {
        guard record.requestHash == fingerprint else {
            throw RPCError.withDetails(
                .failedPrecondition,
                "idempotency_key \"\(key)\" was already used with a different request; use a new key",
                reason: "IDEMPOTENCY_KEY_REUSED")
        }
        guard let first = try await queries.ticket(id: record.ticketID) else {
            throw RPCError(
                code: .internalError, message: "the ticket of idempotency_key \(ClientInput.excerpt(key)) is missing")
        }
        return (first, true)
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
        let tenant = caller.tenantID
        let stored = try await store.transaction(tenant: tenant) { queries in
            guard
                let ticket = try await queries.ticket(
                    reference: request.ticketID, backend: backend, zammadBaseURL: connection?.baseURL)
            else { throw Self.notFound(request.ticketID) }
            if ticket.backend == .zammad && connection != nil { return ticket }
            return try await queries.withComments(ticket)
        }
        var response = Agentplane_V1_GetTicketResponse()
        guard let connection, stored.backend == .zammad, let id = Int64(stored.externalID) else {
            response.ticket = stored
            return response
        }
        // Zammad is read holding no connection; the refresh is then recorded in a short transaction.
        let upstream = try await zammad.ticket(connection, id: id)
        let tags = try await zammad.tags(connection, ticketID: id).filter { !$0.hasPrefix("agentplane_idem_") }
        // Zammad's first article is the ticket's body; the others are its comments, including
        // those written in Zammad itself.
        let comments = Array(try await zammad.articles(connection, ticketID: id).dropFirst())
        var ticket = try await store.transaction(tenant: tenant) { queries in
            guard let current = try await queries.ticket(id: stored.id, locking: true) else {
                throw Self.notFound(request.ticketID)
            }
            // Changed meanwhile (an update recorded after Zammad accepted it): that record is newer.
            guard current.revision == stored.revision else { return current }
            var refreshed = current
            refreshed.title = upstream.title.isEmpty ? current.title : upstream.title
            refreshed.status = upstream.status(keeping: current.status)
            refreshed.priority = upstream.ticketPriority
            refreshed.groupName = upstream.group.isEmpty ? current.groupName : upstream.group
            refreshed.assignee = upstream.owner
            refreshed.tags = tags
            if refreshed == current { return current }
            return try await queries.save(refreshed)
        }
        ticket.comments = comments
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
        let tenant = caller.tenantID
        let token = UUID()
        let lease = store.settings.claimLease
        let start = try await store.untilClaimed(tenant: tenant, what: "ticket \"\(request.ticketID)\"") {
            queries -> UpdateStart? in
            guard
                let current = try await queries.ticket(
                    reference: request.ticketID, backend: backend, zammadBaseURL: connection?.baseURL, locking: true)
            else { throw Self.notFound(request.ticketID) }
            let plan = try TicketUpdatePlan(request: request, current: current)
            let author = plan.comment.map { $0.author.isEmpty ? caller.effectiveUserID : $0.author } ?? ""
            guard current.backend == .zammad else {
                // Built-in: recorded at once, under the row lock.
                return .done(try await Self.record(plan, current: current, author: author, queries))
            }
            guard let connection, let id = Int64(current.externalID) else {
                throw RPCError.withDetails(
                    .failedPrecondition,
                    "ticket \(current.id) lives in Zammad: send backend_config with its base_url and api_token",
                    reason: "BACKEND_CONFIG_REQUIRED")
            }
            let end = ContinuousClock.now + lease
            guard try await queries.acquireClaim("ticket:" + current.id, token: token, lease: lease) else {
                return nil
            }
            return .zammad(
                ZammadWork(
                    current: current, plan: plan, author: author, id: id, connection: connection, until: end))
        }
        var response = Agentplane_V1_UpdateTicketResponse()
        switch start {
        case .done(let ticket):
            response.ticket = ticket
        case .zammad(let work):
            response.ticket = try await updateInZammad(work, tenant: tenant, token: token)
        }
        return response
    }

    /// A Zammad ticket's update, its claim held: the change is sent to Zammad first (holding no
    /// connection) and recorded only once Zammad accepted it.
    private func updateInZammad(_ work: ZammadWork, tenant: String, token: UUID) async throws -> Agentplane_V1_Ticket {
        let claimName = "ticket:" + work.current.id
        var saved: Agentplane_V1_Ticket
        do {
            try await ZammadUpdate.push(
                work.plan, from: work.current, author: work.author, id: work.id,
                via: zammad.bounded(by: work.until), work.connection)
            saved = try await store.transaction(tenant: tenant) { queries in
                // The ticket's row first, then the claim: the order the claiming transaction takes
                // them in, so a waiting update and this one never deadlock.
                _ = try await queries.ticket(id: work.current.id, locking: true)
                try await queries.releaseClaim(claimName, token: token)
                guard work.plan.changesFields || work.plan.comment != nil else { return work.current }
                return try await Self.record(work.plan, current: work.current, author: work.author, queries)
            }
        } catch {
            await store.releaseClaim(tenant: tenant, claimName, token: token)
            throw error
        }
        // As GetTicket shows them: Zammad's articles after the first.
        saved.comments = Array(try await zammad.articles(work.connection, ticketID: work.id).dropFirst())
        return saved
    }

    /// Records an update plan (its comment, then its fields); the ticket with its comments.
    private static func record(
        _ plan: TicketUpdatePlan, current: Agentplane_V1_Ticket, author: String, _ queries: TicketQueries
    ) async throws -> Agentplane_V1_Ticket {
        var saved = current
        if plan.changesFields || plan.comment != nil {
            if let comment = plan.comment {
                try await queries.addComment(
                    ticketID: current.id, author: author, body: comment.body, agentOnly: comment.agentOnly)
            }
            saved = try await queries.save(plan.updated)
        }
        return try await queries.withComments(saved)
    }

    /// How an update starts: recorded already (built-in), or claimed for Zammad.
    private enum UpdateStart: Sendable {
        case done(Agentplane_V1_Ticket)
        case zammad(ZammadWork)
    }

    /// An update to send to Zammad under a claim ending at `until`.
    private struct ZammadWork: Sendable {
        var current: Agentplane_V1_Ticket
        var plan: TicketUpdatePlan
        var author: String
        var id: Int64
        var connection: ZammadConnection
        var until: ContinuousClock.Instant
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
        RPCError(code: .notFound, message: "no ticket \(ClientInput.excerpt(reference))")
    }

    static func unique(_ tags: [String]) -> [String] {
        var seen = Set<String>()
        return tags.filter { seen.insert($0).inserted }
    }
}
