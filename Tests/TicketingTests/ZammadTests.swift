import Foundation
import RPCCore
import RPCModels
import RuntimePostgres
import ServiceTestSupport
import Testing

@Suite("Ticketing: Zammad backend")
struct ZammadTests {
    @Test("a Zammad ticket is created with token, group, customer and article, and mapped back")
    func createMapsBack() async throws {
        let zammad = try await FakeZammad.start()
        let fixture = try await TicketingFixture.start()
        let auth = try await serviceBearer(tenant: uniqueTenant("zam"))
        var request = createRequest(
            "Refund order 4711", body: "Customer wants money back", key: "conv-9/refund", priority: .high,
            requester: "nicole@example.com", tags: ["billing"])
        request.backendConfig = zammadConfig(zammad)
        let response = try await fixture.client.createTicket(request, metadata: auth)
        let ticket = try #require(response.ticket)
        let held = try #require(zammad.tickets.first)
        #expect(zammad.tickets.count == 1)
        #expect(!response.replayed)
        #expect(ticket.backend == .zammad)
        #expect(ticket.externalID == String(held.id))
        #expect(ticket.number == held.number)
        #expect(ticket.url == "\(zammad.baseURL)/#ticket/zoom/\(held.id)")
        #expect(ticket.groupName == "Users" && ticket.status == .open && ticket.priority == .high)
        #expect(ticket.tags == ["billing"])
        #expect(held.title == "Refund order 4711" && held.group == "Users" && held.priority == "3 high")
        #expect(held.customer == "nicole@example.com")
        #expect(held.articles.map(\.body) == ["Customer wants money back"])
        #expect(held.tags.contains("billing") && held.tags.contains { $0.hasPrefix("agentplane_idem_") })
        #expect(zammad.authorizations.allSatisfy { $0 == "Token token=\(zammad.token)" })

        // Recorded here: readable by number (with the Zammad config) and listed.
        var get = Agentplane_V1_GetTicketRequest()
        get.ticketID = String(held.number)
        get.backendConfig = zammadConfig(zammad)
        #expect(try await fixture.client.getTicket(get, metadata: auth).ticket?.id == ticket.id)
        #expect(try await fixture.client.listTickets(.init(), metadata: auth).tickets.map(\.id) == [ticket.id])

        // The API token travels with each call and is stored nowhere.
        let admin = PostgresPool(configuration: .init(connectionString: testDatabaseURL, maximumConnections: 1))
        let leaks = try await admin.query(
            """
            SELECT (SELECT count(*) FROM ticketing.tickets t WHERE row_to_json(t)::text LIKE '%' || $1 || '%')
                + (SELECT count(*) FROM ticketing.idempotency_keys k WHERE row_to_json(k)::text LIKE '%' || $1 || '%')
                AS leaks
            """, zammad.token)
        admin.close()
        #expect(try leaks.first?.decode("leaks", as: Int.self) == 0)

        // The same key again replays without calling Zammad's create.
        let creates = zammad.requests.filter { $0 == "POST /api/v1/tickets" }.count
        let replay = try await fixture.client.createTicket(request, metadata: auth)
        #expect(replay.replayed && replay.ticket == ticket)
        #expect(zammad.requests.filter { $0 == "POST /api/v1/tickets" }.count == creates)
        try await fixture.stop()
        await zammad.stop()
    }

    @Test("Zammad's 401 and 422 answers become PERMISSION_DENIED and INVALID_ARGUMENT")
    func upstreamErrors() async throws {
        let zammad = try await FakeZammad.start()
        let fixture = try await TicketingFixture.start()
        let auth = try await serviceBearer(tenant: uniqueTenant("zerr"))
        var request = createRequest("Hello", key: "e1")
        request.backendConfig = zammadConfig(zammad, token: "wrong-token")
        let denied = await rpcError { try await fixture.client.createTicket(request, metadata: auth) }
        #expect(denied?.code == .permissionDenied)
        #expect(denied?.message.contains("Can't find User for Token") == true)

        request.backendConfig = zammadConfig(zammad, group: "Nope")
        let refused = await rpcError { try await fixture.client.createTicket(request, metadata: auth) }
        #expect(refused?.code == .invalidArgument)
        #expect(refused?.message.contains("No lookup value found for 'group'") == true)
        #expect(zammad.tickets.isEmpty)

        // Nothing was recorded for the failed attempts, so the key is still free.
        request.backendConfig = zammadConfig(zammad)
        let created = try await fixture.client.createTicket(request, metadata: auth)
        #expect(!created.replayed && zammad.tickets.count == 1)

        // Rate limits and server errors (from Zammad or its proxy).
        var later = createRequest("Later")
        later.backendConfig = zammadConfig(zammad)
        zammad.answerNext(status: 429, body: ["error": "Too many requests"], headers: [("Retry-After", "7")])
        let limited = await rpcError { try await fixture.client.createTicket(later, metadata: auth) }
        #expect(limited?.code == .resourceExhausted)
        #expect(limited?.details?.retryAfter?.seconds == 7)
        zammad.answerNext(status: 502, body: ["error": "Bad Gateway"])
        #expect(await statusCode { try await fixture.client.createTicket(later, metadata: auth) } == .unavailable)
        #expect(zammad.tickets.count == 1)

        // A Zammad that is down is UNAVAILABLE.
        var down = createRequest("Hello")
        down.backendConfig = zammadConfig(zammad)
        down.backendConfig?.baseURL = "http://127.0.0.1:1"
        #expect(await statusCode { try await fixture.client.createTicket(down, metadata: auth) } == .unavailable)
        try await fixture.stop()
        await zammad.stop()
    }

    @Test("ten identical concurrent creates with one key make one Zammad ticket")
    func concurrentZammadCreates() async throws {
        let zammad = try await FakeZammad.start()
        let fixture = try await TicketingFixture.start()
        let auth = try await serviceBearer(tenant: uniqueTenant("zcon"))
        var once = createRequest("Once", key: "same-key")
        once.backendConfig = zammadConfig(zammad)
        let request = once
        let client = fixture.client
        let responses = try await withThrowingTaskGroup(of: Agentplane_V1_CreateTicketResponse.self) { group in
            for _ in 0..<10 { group.addTask { try await client.createTicket(request, metadata: auth) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(zammad.tickets.count == 1)
        #expect(Set(responses.compactMap(\.ticket)).count == 1)
        #expect(responses.filter { !$0.replayed }.count == 1)
        try await fixture.stop()
        await zammad.stop()
    }

    @Test("response lost (connection dropped): the retry finds the ticket by its tag")
    func responseLostDropped() async throws {
        try await responseLost(.dropConnection, firstFailure: .unavailable)
    }

    @Test("response lost (Zammad stalls past the timeout): the retry finds the ticket by its tag")
    func responseLostStalled() async throws {
        try await responseLost(.stall, firstFailure: .deadlineExceeded)
    }

    private func responseLost(_ fault: FakeZammad.CreateFault, firstFailure: Status.Code) async throws {
        let zammad = try await FakeZammad.start()
        let fixture = try await TicketingFixture.start(zammadTimeout: "1s")
        let auth = try await serviceBearer(tenant: uniqueTenant("lost"))
        var request = createRequest("Lost in transit", body: "once only", key: "lost-1")
        request.backendConfig = zammadConfig(zammad)
        zammad.setCreateFault(fault)
        #expect(await statusCode { try await fixture.client.createTicket(request, metadata: auth) } == firstFailure)
        #expect(zammad.tickets.count == 1)

        let retry = try await fixture.client.createTicket(request, metadata: auth)
        #expect(zammad.tickets.count == 1)
        let held = try #require(zammad.tickets.first)
        #expect(retry.replayed)
        #expect(retry.ticket?.externalID == String(held.id) && retry.ticket?.number == held.number)
        #expect(zammad.requests.contains("GET /api/v1/tickets/search"))

        let third = try await fixture.client.createTicket(request, metadata: auth)
        #expect(third.replayed && third.ticket == retry.ticket && zammad.tickets.count == 1)
        try await fixture.stop()
        await zammad.stop()
    }

    @Test("UpdateTicket and GetTicket go through to Zammad")
    func updateAndRefresh() async throws {
        let zammad = try await FakeZammad.start()
        let fixture = try await TicketingFixture.start()
        let auth = try await serviceBearer(tenant: uniqueTenant("zupd"))
        var request = createRequest("Broken login", requester: "sam")
        request.backendConfig = zammadConfig(zammad)
        let ticket = try #require(try await fixture.client.createTicket(request, metadata: auth).ticket)
        #expect(zammad.tickets.first?.customer == "sam")

        var update = Agentplane_V1_UpdateTicketRequest()
        update.ticketID = ticket.id
        update.status = .pending
        update.comment = Agentplane_V1_TicketComment(author: "bot", body: "Asked for a screenshot", agentOnly: false)
        update.addTags = ["login"]
        var missingConfig = update
        missingConfig.backendConfig = nil
        #expect(
            await statusCode { try await fixture.client.updateTicket(missingConfig, metadata: auth) }
                == .failedPrecondition)
        update.backendConfig = zammadConfig(zammad)
        let updated = try #require(try await fixture.client.updateTicket(update, metadata: auth).ticket)
        #expect(updated.status == .pending && updated.tags == ["login"])
        #expect(updated.comments.map(\.body) == ["Asked for a screenshot"])
        #expect(updated.comments.first?.id.hasPrefix("zammad-article-") == true)
        let held = try #require(zammad.tickets.first)
        #expect(held.state == "pending reminder" && held.tags.contains("login"))
        #expect(held.articles.last?.body == "Asked for a screenshot")

        // A change made in Zammad shows after a GetTicket with the config.
        zammad.state.withLock { $0.tickets[held.id]?.state = "open" }
        var get = Agentplane_V1_GetTicketRequest()
        get.ticketID = ticket.id
        #expect(try await fixture.client.getTicket(get, metadata: auth).ticket?.status == .pending)
        get.backendConfig = zammadConfig(zammad)
        let refreshed = try #require(try await fixture.client.getTicket(get, metadata: auth).ticket)
        #expect(refreshed.status == .open && refreshed.revision == updated.revision + 1)
        // Comments come from Zammad's articles after the first (which is the ticket's body),
        // including one written in Zammad.
        zammad.state.withLock {
            $0.tickets[held.id]?.articles.append(
                FakeZammad.Article(id: 999, body: "Here it is", isInternal: true, from: "Sam <sam@example.com>"))
        }
        let withArticles = try #require(try await fixture.client.getTicket(get, metadata: auth).ticket)
        #expect(withArticles.comments.map(\.body) == ["Asked for a screenshot", "Here it is"])
        #expect(withArticles.comments.last?.agentOnly == true)
        #expect(withArticles.comments.last?.author == "Sam <sam@example.com>")
        #expect(withArticles.comments.last?.id == "zammad-article-999")
        #expect(withArticles.comments.last?.createdAt?.seconds == 1_767_262_140)
        try await fixture.stop()
        await zammad.stop()
    }
}
