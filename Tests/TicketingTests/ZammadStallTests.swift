import Foundation
import RPCCore
import RPCModels
import RuntimeConfig
import RuntimePostgres
import ServiceTestSupport
import Synchronization
import Testing
import Ticketing

@Suite("Ticketing: Zammad is called outside transactions")
struct ZammadStallTests {
    @Test("tenant A's stalled Zammad calls, more than the pool's connections, leave tenant B's calls unaffected")
    func stalledZammadDoesNotStallOthers() async throws {
        let stalling = try await FakeZammad.start()
        let responsive = try await FakeZammad.start()
        let fixture = try await TicketingFixture.start(zammadTimeout: "8s")
        let client = fixture.client
        let authA = try await serviceBearer(tenant: uniqueTenant("stall-a"))
        let authB = try await serviceBearer(tenant: uniqueTenant("stall-b"))
        // A ticket of A's, made while its Zammad still answers, to read and update.
        var first = createRequest("Existing")
        first.backendConfig = zammadConfig(stalling)
        let existing = try #require(try await client.createTicket(first, metadata: authA).ticket)
        stalling.stallEverything(true)

        // 8 creates, 3 reads and an update of A's, all stalled in Zammad: more than the pool's 8
        // connections.
        let aAnswered = Mutex(false)
        let stalledCalls = Task {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        var request = createRequest("Stalled \(index)", key: "stalled-\(index)")
                        request.backendConfig = zammadConfig(stalling)
                        _ = await statusCode { try await client.createTicket(request, metadata: authA) }
                    }
                }
                for _ in 0..<3 {
                    group.addTask {
                        var get = Agentplane_V1_GetTicketRequest()
                        get.ticketID = existing.id
                        get.backendConfig = zammadConfig(stalling)
                        _ = await statusCode { try await client.getTicket(get, metadata: authA) }
                    }
                }
                group.addTask {
                    var update = Agentplane_V1_UpdateTicketRequest()
                    update.ticketID = existing.id
                    update.title = "Renamed"
                    update.backendConfig = zammadConfig(stalling)
                    _ = await statusCode { try await client.updateTicket(update, metadata: authA) }
                }
                await group.next()
                aAnswered.withLock { $0 = true }
            }
        }
        // At least the pool's worth reach Zammad (the outbound client queues the others: it opens
        // at most 8 connections to one host).
        let deadline = ContinuousClock.now + .seconds(5)
        while stalling.stalled < 8, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(stalling.stalled >= 8)

        // B's calls, on the built-in store and on a Zammad that answers, complete normally.
        for index in 0..<5 {
            let created = try await client.createTicket(createRequest("B \(index)", key: "b-\(index)"), metadata: authB)
            #expect(created.ticket?.number == Int64(index + 1))
        }
        var inZammad = createRequest("B in Zammad", key: "b-zammad")
        inZammad.backendConfig = zammadConfig(responsive)
        let zammadTicket = try #require(try await client.createTicket(inZammad, metadata: authB).ticket)
        var get = Agentplane_V1_GetTicketRequest()
        get.ticketID = zammadTicket.id
        get.backendConfig = zammadConfig(responsive)
        #expect(try await client.getTicket(get, metadata: authB).ticket?.id == zammadTicket.id)
        var update = Agentplane_V1_UpdateTicketRequest()
        update.ticketID = zammadTicket.id
        update.status = .pending
        update.backendConfig = zammadConfig(responsive)
        #expect(try await client.updateTicket(update, metadata: authB).ticket?.status == .pending)
        #expect(try await client.listTickets(.init(), metadata: authB).tickets.count == 6)
        // All of that while every one of A's calls was still waiting for Zammad.
        #expect(aAnswered.withLock { $0 } == false)

        stalling.stallEverything(false)
        await stalledCalls.value
        // A's keys still make one ticket each: a retry answers the ticket a late call created, or
        // creates it (a failed call bound nothing).
        var again = createRequest("Stalled 0", key: "stalled-0")
        again.backendConfig = zammadConfig(stalling)
        let retried = try #require(try await client.createTicket(again, metadata: authA).ticket)
        #expect(stalling.tickets.filter { $0.title == "Stalled 0" }.map { String($0.id) } == [retried.externalID])
        try await fixture.stop()
        await stalling.stop()
        await responsive.stop()
    }

    @Test("a key claimed by a call that crashed is taken over once its lease ends, and not before")
    func expiredClaimIsTakenOver() async throws {
        let zammad = try await FakeZammad.start()
        let fixture = try await TicketingFixture.start()
        let tenant = uniqueTenant("lease")
        let auth = try await serviceBearer(tenant: tenant)
        let admin = PostgresPool(configuration: .init(connectionString: testDatabaseURL, maximumConnections: 1))
        defer { admin.close() }
        // The claim of a call that died while Zammad was creating its ticket.
        let claimed = try await admin.query(
            """
            INSERT INTO ticketing.claims (tenant_id, name, token, expires_at)
            VALUES ($1, 'key:crashed', gen_random_uuid(), now() + interval '1500 milliseconds')
            RETURNING (extract(epoch FROM expires_at) * 1000000)::int8 AS until_us
            """, tenant)
        let until = try #require(try claimed.first?.decode("until_us", as: Int64.self))

        var request = createRequest("After a crash", key: "crashed")
        request.backendConfig = zammadConfig(zammad)
        // A caller that cannot wait for the lease gets no ticket, and Zammad got no call.
        let impatient = await statusCode {
            try await fixture.client.createTicket(request, metadata: auth, options: .init(timeout: .milliseconds(500)))
        }
        #expect(impatient == .deadlineExceeded)
        #expect(zammad.requests.isEmpty)
        // A patient one takes the claim over once it expired.
        let created = try await fixture.client.createTicket(request, metadata: auth)
        #expect(!created.replayed && zammad.tickets.count == 1)
        let rows = try await admin.query(
            """
            SELECT (extract(epoch FROM created_at) * 1000000)::int8 >= $2 AS after_lease,
                (SELECT count(*) FROM ticketing.claims WHERE tenant_id = $1) AS claims
            FROM ticketing.tickets WHERE tenant_id = $1
            """, tenant, until)
        #expect(try rows.first?.decode("after_lease", as: Bool.self) == true)
        #expect(try rows.first?.decode("claims", as: Int.self) == 0)
        try await fixture.stop()
        await zammad.stop()
    }

    @Test("concurrent updates of one Zammad ticket take turns: every change is sent and recorded once")
    func concurrentZammadUpdatesTakeTurns() async throws {
        let zammad = try await FakeZammad.start()
        let fixture = try await TicketingFixture.start()
        let client = fixture.client
        let auth = try await serviceBearer(tenant: uniqueTenant("turns"))
        var request = createRequest("Busy ticket")
        request.backendConfig = zammadConfig(zammad)
        let ticket = try #require(try await client.createTicket(request, metadata: auth).ticket)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<5 {
                group.addTask {
                    var update = Agentplane_V1_UpdateTicketRequest()
                    update.ticketID = ticket.id
                    update.comment = Agentplane_V1_TicketComment(author: "bot", body: "note \(index)", agentOnly: false)
                    update.backendConfig = zammadConfig(zammad)
                    _ = try await client.updateTicket(update, metadata: auth)
                }
            }
            try await group.waitForAll()
        }
        var get = Agentplane_V1_GetTicketRequest()
        get.ticketID = ticket.id
        let recorded = try #require(try await client.getTicket(get, metadata: auth).ticket)
        #expect(recorded.revision == ticket.revision + 5)
        #expect(Set(recorded.comments.map(\.body)) == Set((0..<5).map { "note \($0)" }))
        #expect(zammad.tickets.first?.articles.count == 6)
        try await fixture.stop()
        await zammad.stop()
    }

    @Test("TICKETING_CLAIM_LEASE must outlast ZAMMAD_TIMEOUT: at the limit and past it")
    func claimLeaseSetting() {
        func problems(_ environment: [String: String]) -> [String] {
            var reader = ConfigReader(environment: environment, arguments: [])
            _ = TicketingSettings.read(&reader)
            return reader.problems.map(\.key)
        }
        #expect(problems([:]).isEmpty)
        #expect(problems(["ZAMMAD_TIMEOUT": "10s", "TICKETING_CLAIM_LEASE": "10s"]) == ["TICKETING_CLAIM_LEASE"])
        #expect(problems(["ZAMMAD_TIMEOUT": "10s", "TICKETING_CLAIM_LEASE": "10001ms"]).isEmpty)
    }
}
