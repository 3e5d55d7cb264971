import Control
import FlowEngine
import Foundation
import RPCCore
import RPCModels
import Runtime
import ServiceTestSupport
import Testing

/// What an agent depends on outside its flow: the tools its `tool` nodes name, and the runs of
/// the execution service that DeleteAgent must not pull the agent from under.
@Suite("Control agents: tool references and runs in progress")
struct AgentReferenceTests {
    /// A flow whose three tool nodes name `first`, `second` and `third` (ids or names).
    static func toolFlow(_ first: String, _ second: String, _ third: String) -> String {
        """
        {"entry": "a", "state": {"found": {"type": "object"}}, "nodes": [
          {"id": "a", "kind": "tool", "tool": "\(first)", "arguments": {"query": "{{input}}"}, "output": "found",
           "next": "b"},
          {"id": "b", "kind": "tool", "tool": "\(second)", "next": "c"},
          {"id": "c", "kind": "tool", "tool": "\(third)", "next": "e"},
          {"id": "e", "kind": "end"}]}
        """
    }

    static func create(_ name: String, flow: String) -> Agentplane_V1_CreateAgentRequest {
        var request = Agentplane_V1_CreateAgentRequest()
        request.name = name
        request.flowJSON = flow
        return request
    }

    @Test("GetAgent with include_tools: the tools the flow names as the tenant has them; others' agents NOT_FOUND")
    func includeToolsIsTheTenantsOwn() async throws {
        let fixture = try await ControlFixture.start()
        let tools = Agentplane_V1_ToolService.Client(fixture.harness.client)
        let tenant = try await fixture.createTenant()
        let other = try await fixture.createTenant()
        let builder = try await fixture.user(.builder, in: tenant).metadata
        let kb = try #require(
            try await tools.createTool(try toolRequest("kb_search", kind: .kbSearch), metadata: builder).tool)
        let ticket = try #require(
            try await tools.createTool(try toolRequest("ticketing", kind: .ticketing), metadata: builder).tool)
        // The flow names one tool by name twice and one by id.
        let agent = try #require(
            try await fixture.agents.createAgent(
                Self.create("resolved", flow: Self.toolFlow("kb_search", ticket.id, "kb_search")), metadata: builder
            ).agent)
        var get = Agentplane_V1_GetAgentRequest()
        get.agentID = agent.id
        get.includeTools = true
        let service = try await serviceBearer(service: "execution", tenant: tenant.id)
        let resolved = try await fixture.agents.getAgent(get, metadata: service)
        #expect(resolved.agent?.id == agent.id)
        #expect(Set(resolved.tools.map(\.id)) == [kb.id, ticket.id])
        get.includeTools = false
        #expect(try await fixture.agents.getAgent(get, metadata: service).tools.isEmpty)

        // Another tenant's service token, or its owner, cannot read the agent or its tools.
        get.includeTools = true
        let foreignService = try await serviceBearer(service: "execution", tenant: other.id)
        #expect(await statusCode { try await fixture.agents.getAgent(get, metadata: foreignService) } == .notFound)
        let foreignOwner = try await fixture.ownerMetadata(other)
        #expect(await statusCode { try await fixture.agents.getAgent(get, metadata: foreignOwner) } == .notFound)
        try await fixture.stop()
    }

    @Test("a tool node naming no tool of the tenant is an error with its path, on every save and in ValidateFlow")
    func unknownToolsAreRefused() async throws {
        let fixture = try await ControlFixture.start()
        let tools = Agentplane_V1_ToolService.Client(fixture.harness.client)
        let tenant = try await fixture.createTenant()
        let other = try await fixture.createTenant()
        let builder = try await fixture.user(.builder, in: tenant).metadata
        let otherOwner = try await fixture.ownerMetadata(other)
        _ = try await tools.createTool(try toolRequest("kb_search", kind: .kbSearch), metadata: builder)
        // A disabled tool is fine at save time: enabling it later changes the tool, not the flow.
        let disabled = try #require(
            try await tools.createTool(
                try toolRequest("ticketing", kind: .ticketing, enabled: false), metadata: builder
            ).tool)
        // Another tenant's tool of that name does not count.
        _ = try await tools.createTool(try toolRequest("order_lookup", kind: .kbSearch), metadata: otherOwner)

        let flow = Self.toolFlow("kb_search", disabled.id, "order_lookup")
        #expect(FlowValidator.validate(json: flow).isValid, "the flow itself is valid")
        var validate = Agentplane_V1_ValidateFlowRequest()
        validate.flowJSON = flow
        let checked = try await fixture.agents.validateFlow(validate, metadata: builder)
        #expect(!checked.valid)
        #expect(checked.errors.map(\.field) == ["$.nodes[2].tool"])
        #expect(checked.errors.map(\.code) == ["UNKNOWN_TOOL"])
        #expect(checked.errors.first?.explanation.contains("order_lookup") == true)

        let refused = await rpcError {
            try await fixture.agents.createAgent(Self.create("uses-tools", flow: flow), metadata: builder)
        }
        #expect(refused?.code == .invalidArgument)
        #expect(violationFields(refused) == ["$.nodes[2].tool"])
        #expect(refused?.details?.violations.first?.code == "UNKNOWN_TOOL")
        #expect(try await fixture.agents.listAgents(.init(), metadata: builder).agents.isEmpty)

        // Structural errors and unknown tools are reported together.
        let broken = Self.toolFlow("kb_search", "nope", "ticketing").replacingOccurrences(
            of: #""entry": "a""#, with: #""entry": "zz""#)
        validate.flowJSON = broken
        let both = try await fixture.agents.validateFlow(validate, metadata: builder)
        #expect(Set(both.errors.map(\.field)) == ["$.entry", "$.nodes[1].tool"])

        // Once the tool exists (by name), the save goes through.
        let lookup = try #require(
            try await tools.createTool(try toolRequest("order_lookup", kind: .kbSearch), metadata: builder).tool)
        let agent = try #require(
            try await fixture.agents.createAgent(Self.create("uses-tools", flow: flow), metadata: builder).agent)
        #expect(agent.version == 1)

        // UpdateAgent checks the same way; the agent keeps its version.
        var update = Agentplane_V1_UpdateAgentRequest()
        update.agentID = agent.id
        update.name = agent.name
        update.flowJSON = Self.toolFlow("kb_search", "ticketing", "refund_tool")
        update.changeMessage = "add refunds"
        let updateError = await rpcError { try await fixture.agents.updateAgent(update, metadata: builder) }
        #expect(updateError?.code == .invalidArgument && violationFields(updateError) == ["$.nodes[2].tool"])
        update.flowJSON = validFlow
        #expect(try await fixture.agents.updateAgent(update, metadata: builder).agent?.version == 2)

        // Rolling back to a version whose tool was deleted since: FAILED_PRECONDITION with the path,
        // as for any old version that no longer validates.
        var delete = Agentplane_V1_DeleteToolRequest()
        delete.toolID = lookup.id
        _ = try await tools.deleteTool(delete, metadata: builder)
        var rollback = Agentplane_V1_RollbackAgentRequest()
        rollback.agentID = agent.id
        rollback.toVersion = 1
        let rollbackError = await rpcError { try await fixture.agents.rollbackAgent(rollback, metadata: builder) }
        #expect(rollbackError?.code == .failedPrecondition)
        #expect(violationFields(rollbackError) == ["$.nodes[2].tool"])
        var get = Agentplane_V1_GetAgentRequest()
        get.agentID = agent.id
        #expect(try await fixture.agents.getAgent(get, metadata: builder).agent?.latestVersion == 2)
        _ = try await tools.createTool(try toolRequest("order_lookup", kind: .kbSearch), metadata: builder)
        #expect(try await fixture.agents.rollbackAgent(rollback, metadata: builder).agent?.version == 3)
        try await fixture.stop()
    }

    @Test("DeleteAgent: FAILED_PRECONDITION while a run is in progress, UNAVAILABLE when runs cannot be checked")
    func deleteWaitsForRuns() async throws {
        let fakes = try await FakeIntegrations.start()
        let fixture = try await ControlFixture.start(fakes.environment)
        let tenant = try await fixture.createTenant()
        let builder = try await fixture.user(.builder, in: tenant).metadata
        let agent = try #require(
            try await fixture.agents.createAgent(Self.create("busy", flow: validFlow), metadata: builder).agent)
        let other = try #require(
            try await fixture.agents.createAgent(Self.create("bystander", flow: validFlow), metadata: builder).agent)
        var delete = Agentplane_V1_DeleteAgentRequest()
        delete.agentID = agent.id
        var get = Agentplane_V1_GetAgentRequest()
        get.agentID = agent.id

        fakes.execution.runs.withLock { $0["run-busy"] = (agent.id, .running, .running) }
        let running = await rpcError { try await fixture.agents.deleteAgent(delete, metadata: builder) }
        #expect(running?.code == .failedPrecondition)
        #expect(running?.message.contains("run-busy") == true)
        #expect(fakes.execution.listed.withLock { $0.allSatisfy { $0.agentID == agent.id } })
        #expect(try await fixture.agents.getAgent(get, metadata: builder).agent?.id == agent.id)

        // A run paused on an interrupt is in progress too.
        fakes.execution.runs.withLock { $0 = ["run-paused": (agent.id, .waitingForInput, .waitingForInput)] }
        #expect(
            await statusCode { try await fixture.agents.deleteAgent(delete, metadata: builder) } == .failedPrecondition)
        fakes.execution.runs.withLock { $0 = ["run-queued": (agent.id, .pending, .pending)] }
        #expect(
            await statusCode { try await fixture.agents.deleteAgent(delete, metadata: builder) } == .failedPrecondition)

        // Finished runs, a wait that GetRun reports expired, and another agent's run do not block.
        fakes.execution.runs.withLock {
            $0 = [
                "run-done": (agent.id, .succeeded, .succeeded), "run-expired": (agent.id, .waitingForInput, .failed),
                "run-other": (other.id, .running, .running),
            ]
        }
        _ = try await fixture.agents.deleteAgent(delete, metadata: builder)
        #expect(await statusCode { try await fixture.agents.getAgent(get, metadata: builder) } == .notFound)

        // The execution service is down: nothing is deleted.
        await fakes.stop()
        var deleteOther = Agentplane_V1_DeleteAgentRequest()
        deleteOther.agentID = other.id
        #expect(
            await statusCode { try await fixture.agents.deleteAgent(deleteOther, metadata: builder) } == .unavailable)
        var getOther = Agentplane_V1_GetAgentRequest()
        getOther.agentID = other.id
        #expect(try await fixture.agents.getAgent(getOther, metadata: builder).agent?.id == other.id)
        try await fixture.stop()
    }
}
