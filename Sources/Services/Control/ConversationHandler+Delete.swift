import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimeSecurity

extension ConversationHandler {
    /// DeleteConversation: the conversation and its messages, unless a run of it is in progress
    /// (a RUNNING status whose run already ended is reconciled first, as GetConversation does).
    func deleteConversation(request: Agentplane_V1_DeleteConversationRequest, context server: ServerContext)
        async throws -> Agentplane_V1_DeleteConversationResponse
    {
        let caller = try AuthContext.require(minimum: .member)
        let read = {
            try await context.transaction(tenant: caller.tenantID) { session in
                try await visible(
                    request.conversationID, caller: caller,
                    store: ConversationStore(session: session, tenant: caller.tenantID))
            }
        }
        let conversation = try await read()
        if conversation.status == .running { _ = try await reconcile(conversation, caller: caller) }
        try await context.transaction(tenant: caller.tenantID) { session in
            let store = ConversationStore(session: session, tenant: caller.tenantID)
            let current = try await visible(request.conversationID, caller: caller, store: store, lock: true)
            if current.status == .running {
                throw RPCError(
                    code: .failedPrecondition,
                    message: "a run of this conversation is in progress; cancel it or wait for it to end, then delete")
            }
            guard try await store.delete(id: current.id) else { throw RPCErrors.notFound("conversation", current.id) }
        }
        await context.events.publish(
            tenant: caller.tenantID, type: "conversation.deleted", subject: conversation.id,
            actor: caller.effectiveUserID)
        return Agentplane_V1_DeleteConversationResponse()
    }
}
