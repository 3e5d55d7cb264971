import Foundation
import RPCCore
import RPCModels
import RuntimePostgres
import ServiceTestSupport
import Testing

@Suite("Ticketing: idempotent CreateTicket")
struct IdempotencyTests {
    @Test("ten identical concurrent creates with one key make one ticket")
    func tenConcurrentIdenticalCreates() async throws {
        let fixture = try await TicketingFixture.start()
        let auth = try await serviceBearer(tenant: uniqueTenant("idem"))
        let client = fixture.client
        let request = createRequest("Run 42 needs a human", body: "escalated", key: "run-42/escalate")
        let responses = try await withThrowingTaskGroup(of: Agentplane_V1_CreateTicketResponse.self) { group in
            for _ in 0..<10 { group.addTask { try await client.createTicket(request, metadata: auth) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(responses.count == 10)
        #expect(Set(responses.compactMap(\.ticket)).count == 1)
        #expect(responses.filter { !$0.replayed }.count == 1)
        #expect(responses.filter(\.replayed).count == 9)
        let listed = try await client.listTickets(.init(), metadata: auth).tickets
        #expect(listed.count == 1 && listed.first?.number == 1)

        // A later retry replays too.
        let again = try await client.createTicket(request, metadata: auth)
        #expect(again.replayed && again.ticket == responses.first?.ticket)
        try await fixture.stop()
    }

    @Test("a key reused with another request is FAILED_PRECONDITION; keys are per tenant")
    func keyReuse() async throws {
        let fixture = try await TicketingFixture.start()
        let tenant = uniqueTenant("reuse")
        let auth = try await bearer(tenant: tenant)
        let first = try await fixture.client.createTicket(createRequest("One", key: "k1"), metadata: auth)
        #expect(!first.replayed)
        let reused = await rpcError {
            try await fixture.client.createTicket(createRequest("Two", key: "k1"), metadata: auth)
        }
        #expect(reused?.code == .failedPrecondition)
        #expect(reused?.details?.reason == "IDEMPOTENCY_KEY_REUSED")
        // No key: no de-duplication.
        let plainA = try await fixture.client.createTicket(createRequest("Same"), metadata: auth)
        let plainB = try await fixture.client.createTicket(createRequest("Same"), metadata: auth)
        #expect(plainA.ticket?.id != plainB.ticket?.id && !plainB.replayed)

        let otherTenant = try await bearer(tenant: uniqueTenant("reuse2"))
        let elsewhere = try await fixture.client.createTicket(createRequest("Two", key: "k1"), metadata: otherTenant)
        #expect(!elsewhere.replayed && elsewhere.ticket?.number == 1)
        try await fixture.stop()
    }

    @Test("keys are forgotten after 24 hours")
    func keysExpire() async throws {
        let fixture = try await TicketingFixture.start()
        let tenant = uniqueTenant("expiry")
        let auth = try await bearer(tenant: tenant)
        let first = try await fixture.client.createTicket(createRequest("Old", key: "daily"), metadata: auth)
        // Age the key as the superuser (outside row-level security), as if a day had passed.
        let admin = PostgresPool(configuration: .init(connectionString: testDatabaseURL, maximumConnections: 1))
        _ = try await admin.query(
            "UPDATE ticketing.idempotency_keys SET created_at = now() - interval '25 hours' WHERE tenant_id = $1",
            tenant)
        admin.close()
        let second = try await fixture.client.createTicket(createRequest("New", key: "daily"), metadata: auth)
        #expect(!second.replayed)
        #expect(second.ticket?.id != first.ticket?.id && second.ticket?.number == 2)
        try await fixture.stop()
    }
}
