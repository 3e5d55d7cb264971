import FlowEngine
import FlowEngineProto
import RPCCore
import RPCModels
import ToolRouting

/// Runs a run's `tool` nodes. A tool resolved with the run's agent (GetAgent's `tools`) whose
/// kind an integration service runs and which holds no secrets is called on that service
/// directly, as the control plane's ExecuteTool would call it (`ToolRouter`): one hop and two
/// control-plane transactions less per call. Any other tool (http tools, tools with secrets,
/// which stay sealed in the control plane, and tools not resolved, e.g. in a resumed run) goes
/// through ExecuteTool (`ControlPlaneTools`).
///
/// Exactly once holds either way: the engine's idempotency key goes with the call, and the
/// ticketing and notification services keep a call's first result under it, as ExecuteTool does.
struct RunTools: ToolClient {
    /// The resolved tools by id and by name (an id wins over another tool's equal name, as in
    /// the control plane's lookup).
    let tools: [String: Agentplane_V1_Tool]
    let router: ToolRouter
    let controlPlane: ControlPlaneTools

    init(resolved: [Agentplane_V1_Tool], router: ToolRouter, controlPlane: ControlPlaneTools) {
        var tools: [String: Agentplane_V1_Tool] = [:]
        for tool in resolved { tools[tool.name] = tool }
        for tool in resolved { tools[tool.id] = tool }
        self.tools = tools
        self.router = router
        self.controlPlane = controlPlane
    }

    func execute(_ invocation: ToolInvocation) async throws -> JSONValue {
        guard let tool = tools[invocation.tool], tool.secretNames.isEmpty, ToolRouter.routes(tool.kind) else {
            return try await controlPlane.execute(invocation)
        }
        do {
            guard tool.enabled else {
                throw RPCError(code: .failedPrecondition, message: "tool \(tool.name) is disabled; enable it first")
            }
            // The arguments as ExecuteTool would receive them (a Struct: an object, else empty).
            let arguments = ProtoJSON.members(ProtoJSON.structure(invocation.arguments))
            let violations = ToolArgumentValidator.violations(
                arguments, schema: tool.inputSchema.map { ProtoJSON.members($0) })
            if !violations.isEmpty {
                throw ToolArgumentValidator.error(violations, what: "arguments do not match the tool's input_schema")
            }
            let result = try await router.execute(
                ToolCall(
                    tool: tool, arguments: arguments, idempotencyKey: invocation.idempotencyKey,
                    runID: invocation.runID, conversationID: controlPlane.conversationID,
                    timeout: ToolCall.timeout(of: tool)))
            return .object(result)
        } catch let error as RPCError {
            throw NodeError(ControlPlaneTools.kind(of: error.code), "tool \(invocation.tool): \(error.message)")
        }
    }
}
