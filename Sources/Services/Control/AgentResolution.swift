import RPCModels
import Runtime
import RuntimePostgres

/// An agent version with the tools its flow names, read in the caller's transaction: what
/// GetAgent with include_tools answers, and what SendMessage hands the execution service with a
/// new run so that the run needs no GetAgent call.
struct AgentResolution: Sendable {
    /// The tools each flow's `tool` nodes name, by flow text (`CONTROL_FLOW_CACHE_BYTES`).
    let toolReferences: TextKeyedCache<[String]>

    /// The agent's `version` (0: the latest) and, with `includeTools`, each tool its flow names
    /// (by id or name) as the tenant has it now; nil when there is no such agent or version.
    func agent(
        id: String, version: Int32, includeTools: Bool, session: PostgresSession, tenant: String
    ) async throws -> (agent: Agentplane_V1_Agent, tools: [Agentplane_V1_Tool])? {
        guard let agent = try await AgentStore(session: session, tenant: tenant).agent(id: id, version: version)
        else { return nil }
        guard includeTools else { return (agent, []) }
        let references = toolReferences.value(for: agent.flowJSON) {
            Array(Set(AgentHandler.toolReferences($0).map(\.tool))).sorted()
        }
        guard !references.isEmpty else { return (agent, []) }
        let tools = try await ToolStore(session: session, tenant: tenant).tools(references: references)
        return (agent, tools.map(\.tool))
    }
}
