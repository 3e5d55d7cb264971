import Control
import Foundation
import RPCCore
import RPCModels
import Runtime
import ServiceTestSupport
import Testing

@Suite("Control: conversation retention and the tenant's run limits")
struct TenantRetentionTests {
    /// Sets `settings` on the tenant as its owner.
    static func update(
        _ fixture: ControlFixture, _ tenant: TestTenant, _ settings: Agentplane_V1_TenantSettings
    ) async throws -> Agentplane_V1_TenantSettings? {
        var request = Agentplane_V1_UpdateTenantSettingsRequest()
        request.settings = settings
        return try await fixture.tenants.updateTenantSettings(
            request, metadata: try await fixture.ownerMetadata(tenant)
        )
        .tenant?.settings
    }

    /// A conversation of `tenant` (of a fresh agent) with one message, created by a builder.
    static func conversation(_ fixture: ControlFixture, in tenant: TestTenant) async throws -> String {
        let builder = try await bearer(role: .builder, tenant: tenant.id, user: "builder-1")
        var agent = Agentplane_V1_CreateAgentRequest()
        agent.name = "retained-" + UUID().uuidString.prefix(8)
        agent.flowJSON = validFlow
        let agentID = try await fixture.agents.createAgent(agent, metadata: builder).agent?.id ?? ""
        var create = Agentplane_V1_CreateConversationRequest()
        create.agentID = agentID
        let id = try #require(
            try await fixture.conversations.createConversation(create, metadata: builder).conversation?.id)
        var append = Agentplane_V1_AppendMessageRequest()
        append.conversationID = id
        append.role = .assistant
        append.content = "kept for a while"
        append.runID = "run-\(id)"
        append.idempotencyKey = "run-\(id):assistant:1"
        _ = try await fixture.conversations.appendMessage(
            append, metadata: try await serviceBearer(service: "execution", tenant: tenant.id))
        return id
    }

    static func exists(_ fixture: ControlFixture, _ id: String, in tenant: TestTenant) async throws -> Bool {
        var request = Agentplane_V1_GetConversationRequest()
        request.conversationID = id
        let admin = try await bearer(role: .admin, tenant: tenant.id)
        return await statusCode { try await fixture.conversations.getConversation(request, metadata: admin) }
            != .notFound
    }

    @Test func conversationsIdleLongerThanTheRetentionAreDeletedWithTheirMessages() async throws {
        let fixture = try await ControlFixture.start(["CONVERSATION_RETENTION_SWEEP_INTERVAL": "200ms"])
        let short = try await fixture.createTenant()
        let long = try await fixture.createTenant()
        let forever = try await fixture.createTenant()
        // The conversations exist before the retention is set: under load, creating one and appending
        // its message can take longer than a one-second retention.
        let gone = try await Self.conversation(fixture, in: short)
        let kept = try await Self.conversation(fixture, in: long)
        let keptForever = try await Self.conversation(fixture, in: forever)
        var settings = Agentplane_V1_TenantSettings()
        settings.conversationRetention = Google_Protobuf_Duration(.seconds(1))
        _ = try await Self.update(fixture, short, settings)
        settings.conversationRetention = Google_Protobuf_Duration(.seconds(3600))
        _ = try await Self.update(fixture, long, settings)

        var deleted = false
        for _ in 0..<150 where !deleted {
            deleted = !(try await Self.exists(fixture, gone, in: short))
            if !deleted { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(deleted, "the idle conversation was not deleted within 15 s")
        #expect(try await Self.exists(fixture, kept, in: long))
        #expect(try await Self.exists(fixture, keptForever, in: forever))
        // Its messages went with it: the key of its message is free again, and the conversation unknown.
        var append = Agentplane_V1_AppendMessageRequest()
        append.conversationID = gone
        append.role = .assistant
        append.content = "kept for a while"
        append.runID = "run-\(gone)"
        append.idempotencyKey = "run-\(gone):assistant:1"
        #expect(
            await statusCode {
                try await fixture.conversations.appendMessage(
                    append, metadata: try await serviceBearer(service: "execution", tenant: short.id))
            } == .notFound)
        try await fixture.stop()
    }

    @Test func runSizeLimitsMustNotBeNegativeAndLargeOnesAreKept() async throws {
        let fixture = try await ControlFixture.start()
        let tenant = try await fixture.createTenant()
        for field in ["max_run_state_bytes", "max_node_output_bytes", "max_event_bytes"] {
            var settings = Agentplane_V1_TenantSettings()
            switch field {
            case "max_run_state_bytes": settings.maxRunStateBytes = -1
            case "max_node_output_bytes": settings.maxNodeOutputBytes = -1
            default: settings.maxEventBytes = -1
            }
            var request = Agentplane_V1_UpdateTenantSettingsRequest()
            request.settings = settings
            let owner = try await fixture.ownerMetadata(tenant)
            #expect(
                await statusCode { try await fixture.tenants.updateTenantSettings(request, metadata: owner) }
                    == .invalidArgument, "\(field)")
        }
        // Above the platform's maximum is accepted: the execution service applies the lower one.
        var settings = Agentplane_V1_TenantSettings()
        settings.maxRunStateBytes = Int64.max
        settings.maxNodeOutputBytes = 4096
        settings.maxEventBytes = 0
        let stored = try await Self.update(fixture, tenant, settings)
        #expect(stored?.maxRunStateBytes == Int64.max)
        #expect(stored?.maxNodeOutputBytes == 4096)
        try await fixture.stop()
    }
}
