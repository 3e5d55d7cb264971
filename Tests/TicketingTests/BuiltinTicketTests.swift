import Foundation
import RPCCore
import RPCModels
import RuntimeSecurity
import ServiceTestSupport
import Testing

@Suite("Ticketing: built-in store")
struct BuiltinTicketTests {
    @Test("create, get by id and number, comments, revisions")
    func createGetAndComment() async throws {
        let fixture = try await TicketingFixture.start()
        let tenant = uniqueTenant("crud")
        let auth = try await bearer(role: .member, tenant: tenant, user: "alice")

        let created = try await fixture.client.createTicket(
            createRequest("Printer on fire", body: "Third floor", requester: "bob@example.com", tags: ["hw"]),
            metadata: auth)
        let ticket = try #require(created.ticket)
        #expect(!created.replayed)
        #expect(ticket.number == 1)
        #expect(ticket.backend == .builtin)
        #expect(ticket.status == .open)
        #expect(ticket.priority == .normal)
        #expect(ticket.url == "/tickets/\(ticket.id)")
        #expect(ticket.title == "Printer on fire" && ticket.body == "Third floor")
        #expect(ticket.requester == "bob@example.com" && ticket.tags == ["hw"])
        #expect(ticket.revision == 1 && ticket.createdAt != nil && ticket.closedAt == nil)

        var get = Agentplane_V1_GetTicketRequest()
        get.ticketID = ticket.id
        #expect(try await fixture.client.getTicket(get, metadata: auth).ticket == ticket)
        get.ticketID = "1"
        #expect(try await fixture.client.getTicket(get, metadata: auth).ticket?.id == ticket.id)

        var update = Agentplane_V1_UpdateTicketRequest()
        update.ticketID = ticket.id
        update.comment = Agentplane_V1_TicketComment(author: "", body: "Extinguisher used", agentOnly: true)
        update.addTags = ["urgent-ish"]
        update.assignee = "carol"
        let afterComment = try #require(try await fixture.client.updateTicket(update, metadata: auth).ticket)
        #expect(afterComment.revision == 2)
        #expect(afterComment.assignee == "carol" && afterComment.tags == ["hw", "urgent-ish"])
        #expect(afterComment.comments.count == 1)
        #expect(afterComment.comments.first?.author == "alice")
        #expect(afterComment.comments.first?.agentOnly == true)

        update = Agentplane_V1_UpdateTicketRequest()
        update.ticketID = "1"
        update.comment = Agentplane_V1_TicketComment(author: "Dana", body: "Replaced the fuser", agentOnly: false)
        update.removeTags = ["hw"]
        update.clearAssignee = true
        let second = try #require(try await fixture.client.updateTicket(update, metadata: auth).ticket)
        #expect(second.comments.map(\.body) == ["Extinguisher used", "Replaced the fuser"])
        #expect(second.comments.map(\.author) == ["alice", "Dana"])
        #expect(second.tags == ["urgent-ish"] && second.assignee.isEmpty && second.revision == 3)
        get.ticketID = ticket.id
        #expect(try await fixture.client.getTicket(get, metadata: auth).ticket?.comments.count == 2)

        var list = Agentplane_V1_ListTicketsRequest()
        list.pageSize = 10
        let listed = try await fixture.client.listTickets(list, metadata: auth).tickets
        #expect(listed.map(\.id) == [ticket.id])
        #expect(listed.first?.comments.isEmpty == true)
        try await fixture.stop()
    }

    @Test("numbers count 1, 2, 3 per tenant, without gaps under concurrency")
    func numbersPerTenant() async throws {
        let fixture = try await TicketingFixture.start()
        let first = try await bearer(tenant: uniqueTenant("numa"))
        let second = try await bearer(tenant: uniqueTenant("numb"))
        var numbers: [Int64] = []
        for index in 1...3 {
            let ticket = try await fixture.client.createTicket(createRequest("A\(index)"), metadata: first).ticket
            numbers.append(ticket?.number ?? 0)
        }
        #expect(numbers == [1, 2, 3])
        #expect(try await fixture.client.createTicket(createRequest("B1"), metadata: second).ticket?.number == 1)

        let concurrent = try await serviceBearer(tenant: uniqueTenant("numc"))
        let client = fixture.client
        let parallel = try await withThrowingTaskGroup(of: Int64.self) { group in
            for index in 0..<12 {
                group.addTask {
                    try await client.createTicket(createRequest("C\(index)"), metadata: concurrent).ticket?.number ?? 0
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(parallel.sorted() == Array(1...12))
        try await fixture.stop()
    }

    @Test("another tenant's tickets are NOT_FOUND and never listed")
    func tenantIsolation() async throws {
        let fixture = try await TicketingFixture.start()
        let owner = try await bearer(tenant: uniqueTenant("isoa"))
        let other = try await bearer(tenant: uniqueTenant("isob"))
        let ticket = try #require(
            try await fixture.client.createTicket(createRequest("Secret"), metadata: owner).ticket)
        _ = try await fixture.client.createTicket(createRequest("Mine"), metadata: other)

        var hidden = Agentplane_V1_GetTicketRequest()
        hidden.ticketID = ticket.id
        #expect(await statusCode { try await fixture.client.getTicket(hidden, metadata: other) } == .notFound)
        var update = Agentplane_V1_UpdateTicketRequest()
        update.ticketID = ticket.id
        update.title = "Stolen"
        #expect(await statusCode { try await fixture.client.updateTicket(update, metadata: other) } == .notFound)
        var get = Agentplane_V1_GetTicketRequest()
        get.ticketID = "1"
        #expect(try await fixture.client.getTicket(get, metadata: other).ticket?.title == "Mine")
        get.ticketID = ticket.id
        #expect(try await fixture.client.getTicket(get, metadata: owner).ticket?.title == "Secret")

        let listed = try await fixture.client.listTickets(.init(), metadata: other).tickets
        #expect(listed.map(\.title) == ["Mine"])
        try await fixture.stop()
    }

    @Test("list filters, newest first, page tokens")
    func listFiltersAndPages() async throws {
        let fixture = try await TicketingFixture.start()
        let auth = try await bearer(tenant: uniqueTenant("list"))
        var ids: [String] = []
        let specs: [(String, String, Agentplane_V1_TicketPriority, String, [String], String)] = [
            ("VPN broken", "cannot connect", .high, "ann", ["net"], "conv-1"),
            ("Mouse", "left button 50% dead", .low, "ben", ["hw"], ""),
            ("VPN slow", "since Monday", .normal, "ann", ["net", "slow"], "conv-1"),
            ("Laptop", "screen flickers", .urgent, "cid", ["hw"], ""),
            ("Wifi", "the vpn drops too", .normal, "ben", [], "conv-2"),
        ]
        for (title, body, priority, requester, tags, conversation) in specs {
            let request = createRequest(
                title, body: body, priority: priority, requester: requester, tags: tags, conversationID: conversation)
            ids.append(try await fixture.client.createTicket(request, metadata: auth).ticket?.id ?? "")
        }
        var pend = Agentplane_V1_UpdateTicketRequest()
        pend.ticketID = ids[1]
        pend.status = .pending
        _ = try await fixture.client.updateTicket(pend, metadata: auth)

        func titles(_ configure: (inout Agentplane_V1_ListTicketsRequest) -> Void) async throws -> [String] {
            var request = Agentplane_V1_ListTicketsRequest()
            configure(&request)
            return try await fixture.client.listTickets(request, metadata: auth).tickets.map(\.title)
        }
        #expect(try await titles { _ in } == ["Wifi", "Laptop", "VPN slow", "Mouse", "VPN broken"])
        #expect(try await titles { $0.statuses = [.pending] } == ["Mouse"])
        #expect(try await titles { $0.statuses = [.open, .resolved] }.count == 4)
        #expect(try await titles { $0.priority = .urgent } == ["Laptop"])
        #expect(try await titles { $0.requester = "ann" } == ["VPN slow", "VPN broken"])
        #expect(try await titles { $0.tags = ["net", "slow"] } == ["VPN slow"])
        #expect(try await titles { $0.tags = ["hw"] } == ["Laptop", "Mouse"])
        #expect(try await titles { $0.conversationID = "conv-1" } == ["VPN slow", "VPN broken"])
        #expect(try await titles { $0.query = "vPn" } == ["Wifi", "VPN slow", "VPN broken"])
        #expect(try await titles { $0.query = "50%" } == ["Mouse"])
        #expect(try await titles { $0.query = "%" } == ["Mouse"])
        #expect(try await titles { $0.assignee = "nobody" }.isEmpty)

        var page = Agentplane_V1_ListTicketsRequest()
        page.pageSize = 2
        var seen: [String] = []
        var pages = 0
        repeat {
            let response = try await fixture.client.listTickets(page, metadata: auth)
            seen += response.tickets.map(\.title)
            page.pageToken = response.nextPageToken
            pages += 1
        } while !page.pageToken.isEmpty && pages < 10
        #expect(seen == ["Wifi", "Laptop", "VPN slow", "Mouse", "VPN broken"])
        #expect(pages == 3)

        var filtered = Agentplane_V1_ListTicketsRequest()
        filtered.pageSize = 1
        filtered.requester = "ann"
        let firstPage = try await fixture.client.listTickets(filtered, metadata: auth)
        #expect(firstPage.tickets.map(\.title) == ["VPN slow"] && !firstPage.nextPageToken.isEmpty)
        var changed = filtered
        changed.requester = "ben"
        changed.pageToken = firstPage.nextPageToken
        #expect(await statusCode { try await fixture.client.listTickets(changed, metadata: auth) } == .invalidArgument)
        var garbage = Agentplane_V1_ListTicketsRequest()
        garbage.pageToken = "not-a-token!"
        #expect(await statusCode { try await fixture.client.listTickets(garbage, metadata: auth) } == .invalidArgument)
        var negative = Agentplane_V1_ListTicketsRequest()
        negative.pageSize = -1
        #expect(await statusCode { try await fixture.client.listTickets(negative, metadata: auth) } == .invalidArgument)
        try await fixture.stop()
    }

    @Test("status transitions: allowed, refused, closed is final, stale revision")
    func transitions() async throws {
        let fixture = try await TicketingFixture.start()
        let auth = try await serviceBearer(tenant: uniqueTenant("flow"))
        let ticket = try #require(try await fixture.client.createTicket(createRequest("Flow"), metadata: auth).ticket)

        func move(_ status: Agentplane_V1_TicketStatus, revision: Int64 = 0) async -> Status.Code? {
            var update = Agentplane_V1_UpdateTicketRequest()
            update.ticketID = ticket.id
            update.status = status
            update.expectedRevision = revision
            return await statusCode { try await fixture.client.updateTicket(update, metadata: auth) }
        }
        #expect(await move(.pending) == .ok)
        #expect(await move(.open) == .ok)
        #expect(await move(.resolved) == .ok)
        #expect(await move(.pending) == .failedPrecondition)
        #expect(await move(.open) == .ok)
        #expect(await move(.pending, revision: 2) == .aborted)
        #expect(await move(.pending, revision: 5) == .ok)
        #expect(await move(.resolved) == .ok)

        var get = Agentplane_V1_GetTicketRequest()
        get.ticketID = ticket.id
        let resolved = try #require(try await fixture.client.getTicket(get, metadata: auth).ticket)
        #expect(resolved.status == .resolved && resolved.closedAt == nil && resolved.revision == 7)

        #expect(await move(.closed) == .ok)
        let closed = try #require(try await fixture.client.getTicket(get, metadata: auth).ticket)
        #expect(closed.status == .closed && closed.closedAt != nil)
        #expect(await move(.open) == .failedPrecondition)
        var comment = Agentplane_V1_UpdateTicketRequest()
        comment.ticketID = ticket.id
        comment.comment = Agentplane_V1_TicketComment(author: "x", body: "too late", agentOnly: false)
        let refused = await rpcError { try await fixture.client.updateTicket(comment, metadata: auth) }
        #expect(refused?.code == .failedPrecondition)
        #expect(refused?.message.contains("CLOSED") == true)

        var empty = Agentplane_V1_UpdateTicketRequest()
        empty.ticketID = ticket.id
        #expect(await statusCode { try await fixture.client.updateTicket(empty, metadata: auth) } == .invalidArgument)
        var missing = Agentplane_V1_UpdateTicketRequest()
        missing.ticketID = UUID().uuidString
        missing.title = "x"
        #expect(await statusCode { try await fixture.client.updateTicket(missing, metadata: auth) } == .notFound)
        try await fixture.stop()
    }

    @Test("bad input and credentials get the right statuses")
    func badInput() async throws {
        let fixture = try await TicketingFixture.start()
        let auth = try await bearer(role: .builder, tenant: uniqueTenant("bad"))
        #expect(
            await statusCode { try await fixture.client.createTicket(createRequest("  "), metadata: auth) }
                == .invalidArgument)
        #expect(
            await statusCode {
                try await fixture.client.createTicket(createRequest("x", tags: ["a,b"]), metadata: auth)
            }
                == .invalidArgument)
        let longKey = String(repeating: "k", count: 129)
        #expect(
            await statusCode { try await fixture.client.createTicket(createRequest("x", key: longKey), metadata: auth) }
                == .invalidArgument)
        var zammad = createRequest("x")
        zammad.backendConfig = Agentplane_V1_TicketBackendConfig(
            backend: .zammad, baseURL: "", apiToken: "t", groupName: "Users")
        let missingURL = await rpcError { try await fixture.client.createTicket(zammad, metadata: auth) }
        #expect(missingURL?.code == .invalidArgument)
        #expect(missingURL?.message.contains("backend_config.base_url") == true)
        zammad.backendConfig?.baseURL = "https://support.example.com"
        zammad.backendConfig?.groupName = ""
        #expect(await statusCode { try await fixture.client.createTicket(zammad, metadata: auth) } == .invalidArgument)
        var get = Agentplane_V1_GetTicketRequest()
        get.ticketID = ""
        #expect(await statusCode { try await fixture.client.getTicket(get, metadata: auth) } == .invalidArgument)
        #expect(await statusCode { try await fixture.client.createTicket(createRequest("x")) } == .unauthenticated)
        #expect(
            await statusCode {
                try await fixture.client.createTicket(
                    createRequest("x"), metadata: ["authorization": .string("Bearer nope")])
            } == .unauthenticated)
        try await fixture.stop()
    }

    @Test("every human role and service tokens may call; API keys are for the control plane")
    func roles() async throws {
        let fixture = try await TicketingFixture.start()
        let tenant = uniqueTenant("roles")
        for role in [Role.owner, .admin, .builder, .member] {
            let auth = try await bearer(role: role, tenant: tenant)
            #expect(await statusCode { try await fixture.client.listTickets(.init(), metadata: auth) } == .ok)
        }
        let service = try await serviceBearer(tenant: tenant)
        #expect(
            await statusCode { try await fixture.client.createTicket(createRequest("S"), metadata: service) } == .ok)
        let apiKey: Metadata = ["authorization": .string("Bearer apk_0123456789abcdef")]
        #expect(
            await statusCode { try await fixture.client.listTickets(.init(), metadata: apiKey) } == .unauthenticated)
        try await fixture.stop()
    }

    @Test("an update that repeats the current values keeps the revision")
    func noOpUpdate() async throws {
        let fixture = try await TicketingFixture.start()
        let auth = try await bearer(tenant: uniqueTenant("noop"))
        let ticket = try #require(
            try await fixture.client.createTicket(createRequest("Same", priority: .low), metadata: auth).ticket)
        var update = Agentplane_V1_UpdateTicketRequest()
        update.ticketID = ticket.id
        update.status = .open
        update.priority = .low
        update.title = "Same"
        let unchanged = try #require(try await fixture.client.updateTicket(update, metadata: auth).ticket)
        #expect(unchanged.revision == ticket.revision && unchanged.updatedAt == ticket.updatedAt)
        update.title = "Different"
        #expect(try await fixture.client.updateTicket(update, metadata: auth).ticket?.revision == ticket.revision + 1)
        try await fixture.stop()
    }
}
