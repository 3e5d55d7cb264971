import FlowEngine
import FlowEngineProto
import RPCCore
import RPCModels
import Runtime

/// Runs `tool` nodes through the control plane's ToolService.ExecuteTool, forwarding the engine's
/// idempotency key so a retried or resumed call never repeats the side effect.
struct ControlPlaneTools: ToolClient {
    let peers: PeerClients
    let conversationID: String

    func execute(_ invocation: ToolInvocation) async throws -> JSONValue {
        var request = Agentplane_V1_ExecuteToolRequest()
        request.toolID = invocation.tool
        request.arguments = ProtoJSON.structure(invocation.arguments)
        request.idempotencyKey = invocation.idempotencyKey
        request.runID = invocation.runID
        request.conversationID = conversationID
        do {
            let client = Agentplane_V1_ToolService.Client(try peers.client(for: .control))
            let response = try await client.executeTool(request)
            return .object(ProtoJSON.members(response.result))
        } catch let error as RPCError {
            throw NodeError(Self.kind(of: error.code), "tool \(invocation.tool): \(error.message)")
        }
    }

    /// The engine's error kind for a status, so retry policies can select it.
    static func kind(of code: Status.Code) -> NodeErrorKind {
        switch code {
        case .unavailable: .unavailable
        case .deadlineExceeded: .timeout
        case .resourceExhausted: .rateLimited
        case .invalidArgument: .invalidArgument
        default: .toolFailed
        }
    }
}
