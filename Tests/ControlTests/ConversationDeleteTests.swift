import Control
import Foundation
import RPCCore
import RPCModels
import Runtime
import ServiceTestSupport
import Testing

@Suite("Control conversations: delete")
struct ConversationDeleteTests {
    typealias Fixture = ConversationTests.Fixture

    @Test(
        "own conversation deleted with its messages; others' and other tenants' NOT_FOUND; admins any; not while running"
    )
    func delete() async throws {
        let fixture = try await Fixture.start()
        let tenant = uniqueTenant()
        let agent = try await fixture.agent(in: tenant)
        let member = try await bearer(role: .member, tenant: tenant, user: "member-1")
        let otherMember = try await bearer(role: .member, tenant: tenant, user: "member-2")
        let admin = try await bearer(role: .admin, tenant: tenant, user: "admin-1")
        let conversation = try await fixture.create(agent: agent, as: member)
        _ = try await fixture.send(conversation.id, "hello", as: member)
        let request = Agentplane_V1_DeleteConversationRequest(conversationID: conversation.id)

        #expect(
            await statusCode {
                try await fixture.conversations.deleteConversation(.init(conversationID: ""), metadata: member)
            } == .invalidArgument)
        #expect(
            await statusCode { try await fixture.conversations.deleteConversation(request, metadata: otherMember) }
                == .notFound)
        let stranger = try await bearer(role: .owner, tenant: uniqueTenant(), user: "owner-x")
        #expect(
            await statusCode { try await fixture.conversations.deleteConversation(request, metadata: stranger) }
                == .notFound)
        let service = try await serviceBearer(service: "execution", tenant: tenant)
        #expect(
            await statusCode { try await fixture.conversations.deleteConversation(request, metadata: service) }
                == .permissionDenied)
        #expect(try await fixture.conversation(conversation.id, as: member).id == conversation.id)

        _ = try await fixture.conversations.deleteConversation(request, metadata: member)
        #expect(
            await statusCode {
                try await fixture.conversations.getConversation(.init(conversationID: conversation.id), metadata: admin)
            } == .notFound)
        var messages = Agentplane_V1_ListMessagesRequest()
        messages.conversationID = conversation.id
        #expect(
            await statusCode { try await fixture.conversations.listMessages(messages, metadata: admin) } == .notFound)
        #expect(
            await statusCode { try await fixture.conversations.deleteConversation(request, metadata: member) }
                == .notFound)

        // An admin deletes another user's conversation.
        let second = try await fixture.create(agent: agent, as: otherMember)
        _ = try await fixture.conversations.deleteConversation(.init(conversationID: second.id), metadata: admin)
        #expect(
            try await fixture.conversations.listConversations(.init(), metadata: otherMember).conversations.isEmpty)

        // Not while a run is in progress; once it ended, yes.
        let busy = try await fixture.create(agent: agent, as: member)
        let run = Task { try await fixture.send(busy.id, "hold on", as: member) }
        var running = false
        for _ in 0..<200 where !running {
            running = try await fixture.conversation(busy.id, as: member).status == .running
            if !running { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(running)
        let refused = await rpcError {
            try await fixture.conversations.deleteConversation(.init(conversationID: busy.id), metadata: member)
        }
        #expect(refused?.code == .failedPrecondition)
        fixture.fakes.execution.released.withLock { $0 = true }
        _ = try await run.value
        _ = try await fixture.conversations.deleteConversation(.init(conversationID: busy.id), metadata: member)
        try await fixture.stop()
    }
}
