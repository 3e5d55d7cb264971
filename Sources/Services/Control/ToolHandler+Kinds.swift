import FlowEngineProto
import RPCCore
import RPCModels
import Runtime

extension ToolHandler {
    /// ListToolKinds: each kind's config and secrets schemas, the values saves are checked against.
    func listToolKinds(request: Agentplane_V1_ListToolKindsRequest, context server: ServerContext) async throws
        -> Agentplane_V1_ListToolKindsResponse
    {
        _ = try Self.reader()
        var response = Agentplane_V1_ListToolKindsResponse()
        response.kinds = ToolKindSchemas.all.map { entry in
            var kind = Agentplane_V1_ToolKindSchema()
            kind.kind = entry.kind
            kind.title = entry.title
            kind.description = entry.description
            kind.configSchema = ProtoJSON.structure(entry.config)
            kind.secretsSchema = ProtoJSON.structure(entry.secrets)
            return kind
        }
        return response
    }
}
