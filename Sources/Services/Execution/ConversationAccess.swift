import RPCCore
import RPCModels
import Runtime
import RuntimeSecurity

/// Whether a caller may attach a run to a conversation (its answer is written there, and the
/// conversation is busy while the run is active): the rule of the control plane's SendMessage.
/// A user may use the conversations they created, admins and owners any of their tenant's; a
/// service token (the control plane relaying SendMessage, which checked already) is trusted.
/// Any other conversation, or one that does not exist, is NOT_FOUND, as the control plane
/// answers for another user's conversation.
enum ConversationAccess {
    /// Throws NOT_FOUND unless `caller` may write to `conversationID` (empty: no conversation).
    static func check(_ conversationID: String, caller: AuthContext, peers: PeerClients) async throws {
        guard !conversationID.isEmpty, caller.role != .service else { return }
        var request = Agentplane_V1_GetConversationRequest()
        request.conversationID = conversationID
        let conversation: Agentplane_V1_Conversation?
        do {
            let client = Agentplane_V1_ConversationService.Client(try peers.client(for: .control))
            conversation = try await client.getConversation(request, options: .init(timeout: .seconds(10))).conversation
        } catch let error as RPCError where error.code == .notFound || error.code == .invalidArgument {
            throw notFound(conversationID)
        } catch {
            throw RPCError(
                code: .unavailable, message: "the control plane is unavailable, so the conversation cannot be checked")
        }
        guard let conversation, conversation.id == conversationID else { throw notFound(conversationID) }
        if caller.role.satisfies(.admin) || conversation.createdBy == caller.effectiveUserID { return }
        throw notFound(conversationID)
    }

    private static func notFound(_ id: String) -> RPCError {
        RPCError(code: .notFound, message: "no conversation \(ClientInput.excerpt(id)) that this caller may write to")
    }
}
