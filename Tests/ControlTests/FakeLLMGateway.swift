import Foundation
import RPCCore
import RPCModels
import Synchronization

/// Test-only LLM gateway: Chat records the request and answers "model says: <last message>";
/// the other methods are UNIMPLEMENTED.
final class FakeLLMGateway: Agentplane_V1_LLMGatewayService.ServiceProtocol {
    let chats = Mutex<[Agentplane_V1_ChatRequest]>([])

    func chat(request: Agentplane_V1_ChatRequest, context: ServerContext) async throws -> Agentplane_V1_ChatResponse {
        chats.withLock { $0.append(request) }
        var response = Agentplane_V1_ChatResponse()
        response.model = request.model.isEmpty ? "builtin" : request.model
        response.message = Agentplane_V1_ChatMessage(
            role: .assistant, content: "model says: \(request.messages.last?.content ?? "")")
        return response
    }

    func chatStream(
        request: Agentplane_V1_ChatStreamRequest, response: ResponseWriter<Agentplane_V1_ChatStreamResponse>,
        context: ServerContext
    ) async throws {
        throw RPCError(code: .unimplemented, message: "fake gateway: chat only")
    }

    func embed(request: Agentplane_V1_EmbedRequest, context: ServerContext) async throws -> Agentplane_V1_EmbedResponse
    {
        throw RPCError(code: .unimplemented, message: "fake gateway: chat only")
    }

    func listModels(request: Agentplane_V1_ListModelsRequest, context: ServerContext) async throws
        -> Agentplane_V1_ListModelsResponse
    {
        throw RPCError(code: .unimplemented, message: "fake gateway: chat only")
    }

    func getUsage(request: Agentplane_V1_GetUsageRequest, context: ServerContext) async throws
        -> Agentplane_V1_GetUsageResponse
    {
        throw RPCError(code: .unimplemented, message: "fake gateway: chat only")
    }

    func setProviderConfig(request: Agentplane_V1_SetProviderConfigRequest, context: ServerContext) async throws
        -> Agentplane_V1_SetProviderConfigResponse
    {
        throw RPCError(code: .unimplemented, message: "fake gateway: chat only")
    }

    func getProviderConfig(request: Agentplane_V1_GetProviderConfigRequest, context: ServerContext) async throws
        -> Agentplane_V1_GetProviderConfigResponse
    {
        throw RPCError(code: .unimplemented, message: "fake gateway: chat only")
    }
}
