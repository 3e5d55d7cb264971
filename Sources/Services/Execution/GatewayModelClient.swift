import FlowEngine
import RPCCore
import RPCModels
import Runtime

/// `llm` and `llm_router` nodes through the LLM gateway's ChatStream.
struct GatewayModelClient: ModelClient {
    let peers: PeerClients
    let runID: String

    func chat(_ request: ChatRequest, onDelta: @escaping @Sendable (String) -> Void) async throws -> ChatResult {
        var chat = Agentplane_V1_ChatRequest()
        chat.model = request.model
        chat.runID = runID
        chat.messages = request.messages.map { message in
            var out = Agentplane_V1_ChatMessage()
            out.role =
                switch message.role {
                case .system: .system
                case .user: .user
                case .assistant: .assistant
                case .tool: .tool
                }
            out.content = message.content
            return out
        }
        chat.tools = request.tools.map { choice in
            var spec = Agentplane_V1_ModelToolSpec()
            spec.name = choice.name
            spec.description = choice.description
            return spec
        }
        var streamRequest = Agentplane_V1_ChatStreamRequest()
        streamRequest.chat = chat
        do {
            let client = Agentplane_V1_LLMGatewayService.Client(try peers.client(for: .llmGateway))
            return try await client.chatStream(streamRequest) { stream in
                var result = ChatResult(text: "")
                for try await item in stream {
                    switch item.event {
                    case .contentDelta(let text):
                        result.text += text
                        onDelta(text)
                    case .toolCall(let call):
                        result.toolCall = call.name
                    case .end(let end):
                        result.promptTokens = Int(end.usage?.promptTokens ?? 0)
                        result.completionTokens = Int(end.usage?.completionTokens ?? 0)
                    default:
                        break
                    }
                }
                return result
            }
        } catch let error as RPCError {
            let kind: NodeErrorKind =
                switch error.code {
                case .unavailable: .unavailable
                case .deadlineExceeded: .timeout
                case .resourceExhausted: .rateLimited
                case .invalidArgument: .invalidArgument
                default: .modelFailed
                }
            throw NodeError(kind, "LLM gateway: \(error.message)")
        }
    }
}
