import FlowEngine
import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimePostgres
import RuntimeSecurity

/// AgentService: agents with immutable versions; every save validates the flow and checks
/// that the tools it references exist in the tenant.
struct AgentHandler: Agentplane_V1_AgentService.ServiceProtocol {
    let context: ControlContext
    /// The execution service, asked before a delete whether a run of the agent is in progress.
    let peers: PeerClients
    /// Reads an agent version with its tools (GetAgent's include_tools).
    let resolution: AgentResolution
    static let maximumFlowBytes = 1 << 20

    func createAgent(request: Agentplane_V1_CreateAgentRequest, context server: ServerContext) async throws
        -> Agentplane_V1_CreateAgentResponse
    {
        let caller = try AuthContext.require(minimum: .builder)
        let definition = try await definition(
            name: request.name, description: request.description, flowJSON: request.flowJSON, tags: request.tags,
            metadata: request.metadata, tenant: caller.tenantID)
        if request.changeMessage.count > 2000 {
            throw RPCErrors.invalid("change_message", "TOO_LONG", "change_message must be at most 2000 characters")
        }
        let message = request.changeMessage.isEmpty ? "Initial version" : request.changeMessage
        let agent: Agentplane_V1_Agent
        do {
            agent = try await context.transaction(tenant: caller.tenantID) { session in
                try await AgentStore(session: session, tenant: caller.tenantID).create(
                    id: UUID().uuidString.lowercased(), definition: definition, author: caller.effectiveUserID,
                    message: message)
            }
        } catch let error as PostgresError where error.code == .uniqueViolation {
            throw Self.nameTaken(request.name)
        }
        await publish(agent, type: "agent.created", caller: caller)
        var response = Agentplane_V1_CreateAgentResponse()
        response.agent = agent
        return response
    }

    func getAgent(request: Agentplane_V1_GetAgentRequest, context server: ServerContext) async throws
        -> Agentplane_V1_GetAgentResponse
    {
        let caller = try Self.reader()
        try Self.requireID(request.agentID)
        if request.version < 0 {
            throw RPCErrors.invalid("version", "NEGATIVE", "version must be 0 (latest) or positive")
        }
        let resolved = try await context.transaction(tenant: caller.tenantID) { session in
            try await resolution.agent(
                id: request.agentID, version: request.version, includeTools: request.includeTools, session: session,
                tenant: caller.tenantID)
        }
        guard let (agent, tools) = resolved else {
            throw RPCErrors.notFound(
                request.version == 0 ? "agent" : "version \(request.version) of agent", request.agentID)
        }
        var response = Agentplane_V1_GetAgentResponse()
        response.agent = agent
        response.tools = tools
        return response
    }

    func listAgents(request: Agentplane_V1_ListAgentsRequest, context server: ServerContext) async throws
        -> Agentplane_V1_ListAgentsResponse
    {
        let caller = try Self.reader()
        let limit = try Pagination.pageSize(request.pageSize)
        let filters = "agents|\(request.tags.sorted().joined(separator: ","))|\(request.nameContains)"
        let after = try Pagination.cursor(from: request.pageToken, filters: filters)?.first
        let rows = try await context.transaction(tenant: caller.tenantID) { session in
            try await AgentStore(session: session, tenant: caller.tenantID).list(
                tags: request.tags, nameContains: request.nameContains, afterName: after, limit: limit)
        }
        var response = Agentplane_V1_ListAgentsResponse()
        response.agents = Array(rows.prefix(limit))
        if rows.count > limit, let last = response.agents.last {
            response.nextPageToken = Pagination.token(cursor: [last.name], filters: filters)
        }
        return response
    }

    func updateAgent(request: Agentplane_V1_UpdateAgentRequest, context server: ServerContext) async throws
        -> Agentplane_V1_UpdateAgentResponse
    {
        let caller = try AuthContext.require(minimum: .builder)
        try Self.requireID(request.agentID)
        let definition = try await definition(
            name: request.name, description: request.description, flowJSON: request.flowJSON, tags: request.tags,
            metadata: request.metadata, tenant: caller.tenantID)
        try RPCErrors.requireText(request.changeMessage, field: "change_message", maximum: 2000)
        let agent: Agentplane_V1_Agent
        do {
            agent = try await context.transaction(tenant: caller.tenantID) { session in
                let store = AgentStore(session: session, tenant: caller.tenantID)
                guard let head = try await store.lock(id: request.agentID) else {
                    throw RPCErrors.notFound("agent", request.agentID)
                }
                try Self.expect(request.expectedVersion, head)
                return try await store.append(
                    id: request.agentID, after: head, definition: definition, author: caller.effectiveUserID,
                    message: request.changeMessage)
            }
        } catch let error as PostgresError where error.code == .uniqueViolation {
            throw Self.nameTaken(request.name)
        }
        await publish(agent, type: "agent.updated", caller: caller)
        var response = Agentplane_V1_UpdateAgentResponse()
        response.agent = agent
        return response
    }

    func listAgentVersions(request: Agentplane_V1_ListAgentVersionsRequest, context server: ServerContext)
        async throws -> Agentplane_V1_ListAgentVersionsResponse
    {
        let caller = try Self.reader()
        try Self.requireID(request.agentID)
        let limit = try Pagination.pageSize(request.pageSize)
        let filters = "versions|\(request.agentID)"
        let before = try Pagination.cursor(from: request.pageToken, filters: filters)?.first.flatMap { Int32($0) }
        let rows = try await context.transaction(tenant: caller.tenantID) { session in
            let store = AgentStore(session: session, tenant: caller.tenantID)
            guard try await store.agent(id: request.agentID) != nil else {
                throw RPCErrors.notFound("agent", request.agentID)
            }
            return try await store.versions(id: request.agentID, before: before, limit: limit)
        }
        var response = Agentplane_V1_ListAgentVersionsResponse()
        response.versions = Array(rows.prefix(limit))
        if rows.count > limit, let last = response.versions.last {
            response.nextPageToken = Pagination.token(cursor: [String(last.version)], filters: filters)
        }
        return response
    }

    func rollbackAgent(request: Agentplane_V1_RollbackAgentRequest, context server: ServerContext) async throws
        -> Agentplane_V1_RollbackAgentResponse
    {
        let caller = try AuthContext.require(minimum: .builder)
        try Self.requireID(request.agentID)
        if request.toVersion <= 0 {
            throw RPCErrors.invalid("to_version", "MISSING_FIELD", "to_version must name an older version (1, 2, ...)")
        }
        if request.changeMessage.count > 2000 {
            throw RPCErrors.invalid("change_message", "TOO_LONG", "change_message must be at most 2000 characters")
        }
        let message = request.changeMessage.isEmpty ? "Rollback to version \(request.toVersion)" : request.changeMessage
        let agent: Agentplane_V1_Agent
        do {
            agent = try await context.transaction(tenant: caller.tenantID) { session in
                let store = AgentStore(session: session, tenant: caller.tenantID)
                guard let head = try await store.lock(id: request.agentID) else {
                    throw RPCErrors.notFound("agent", request.agentID)
                }
                guard let old = try await store.agent(id: request.agentID, version: request.toVersion) else {
                    throw RPCErrors.notFound("version \(request.toVersion) of agent", request.agentID)
                }
                try Self.expect(request.expectedVersion, head)
                if request.toVersion == head.latestVersion {
                    throw RPCErrors.invalid(
                        "to_version", "IS_LATEST", "version \(request.toVersion) is already the latest version")
                }
                let validation = try await check(old.flowJSON, tenant: caller.tenantID, in: session)
                if !validation.isValid {
                    throw RPCError.withDetails(
                        .failedPrecondition,
                        "version \(request.toVersion)'s flow no longer validates: "
                            + validation.errors.map(\.description).joined(separator: "; "),
                        reason: "FLOW_INVALID", violations: validation.errors.map(Self.violation))
                }
                let definition = AgentDefinition(
                    name: old.name, description: old.description, flowJSON: old.flowJSON, tags: old.tags,
                    metadata: old.metadata)
                return try await store.append(
                    id: request.agentID, after: head, definition: definition, author: caller.effectiveUserID,
                    message: message, restoredFrom: request.toVersion)
            }
        } catch let error as PostgresError where error.code == .uniqueViolation {
            throw RPCError(code: .alreadyExists, message: "another agent now has this version's name; rename it first")
        }
        await publish(agent, type: "agent.rolled_back", caller: caller)
        var response = Agentplane_V1_RollbackAgentResponse()
        response.agent = agent
        return response
    }

    func deleteAgent(request: Agentplane_V1_DeleteAgentRequest, context server: ServerContext) async throws
        -> Agentplane_V1_DeleteAgentResponse
    {
        let caller = try AuthContext.require(minimum: .builder)
        try Self.requireID(request.agentID)
        let exists = try await context.transaction(tenant: caller.tenantID) { session in
            try await AgentStore(session: session, tenant: caller.tenantID).agent(id: request.agentID) != nil
        }
        guard exists else { throw RPCErrors.notFound("agent", request.agentID) }
        try await requireNoActiveRun(agentID: request.agentID)
        let deleted = try await context.transaction(tenant: caller.tenantID) { session in
            try await AgentStore(session: session, tenant: caller.tenantID).delete(id: request.agentID)
        }
        guard deleted else { throw RPCErrors.notFound("agent", request.agentID) }
        await context.events.publish(
            tenant: caller.tenantID, type: "agent.deleted", subject: request.agentID, actor: caller.effectiveUserID)
        return Agentplane_V1_DeleteAgentResponse()
    }

    func validateFlow(request: Agentplane_V1_ValidateFlowRequest, context server: ServerContext) async throws
        -> Agentplane_V1_ValidateFlowResponse
    {
        let caller = try AuthContext.require(minimum: .builder)
        try Self.checkSize(request.flowJSON)
        let validation = try await context.transaction(tenant: caller.tenantID) { session in
            try await check(request.flowJSON, tenant: caller.tenantID, in: session)
        }
        var response = Agentplane_V1_ValidateFlowResponse()
        response.valid = validation.isValid
        response.errors = validation.errors.map(Self.violation)
        response.warnings = validation.warnings.map(Self.violation)
        return response
    }

    // MARK: Helpers

    private func publish(_ agent: Agentplane_V1_Agent, type: String, caller: AuthContext) async {
        await context.events.publish(
            tenant: caller.tenantID, type: type, subject: agent.id, actor: caller.effectiveUserID,
            fields: ["version": String(agent.version)])
    }

    /// Readers: member or above, or a service token (the policy lets those through).
    private static func reader() throws -> AuthContext {
        guard let caller = AuthContext.current else { throw RPCErrors.unauthenticated }
        if caller.role == .service { return caller }
        return try AuthContext.require(minimum: .member)
    }

    private static func requireID(_ id: String) throws {
        if id.isEmpty { throw RPCErrors.invalid("agent_id", "MISSING_FIELD", "agent_id is required") }
    }

    private static func expect(_ expected: Int32, _ head: AgentHead) throws {
        if expected != 0, expected != head.latestVersion {
            throw RPCError(
                code: .aborted,
                message: "expected_version \(expected) is not the latest version \(head.latestVersion); "
                    + "read the agent again")
        }
    }

    private static func checkSize(_ flow: String) throws {
        if flow.utf8.count > maximumFlowBytes {
            throw RPCError(code: .resourceExhausted, message: "flow_json is larger than 1 MiB")
        }
    }

    private static func nameTaken(_ name: String) -> RPCError {
        RPCError(code: .alreadyExists, message: "an agent named \"\(name.prefix(200))\" exists in this tenant")
    }

    /// FlowEngine's validator, off the event loop (a flow may be 1 MiB), plus one `UNKNOWN_TOOL`
    /// error per `tool` node whose `tool` is neither the id nor the name of a tool of the tenant
    /// (disabled tools count: enabling one is a change of the tool, not of the flow).
    private func check(_ json: String, tenant: String, in session: PostgresSession) async throws -> FlowCheck {
        let (validation, references) = try await Offload.run {
            (FlowValidator.validate(json: json), Self.toolReferences(json))
        }
        var errors = validation.errors
        if !references.isEmpty {
            let known = try await ToolStore(session: session, tenant: tenant).existing(
                references: Array(Set(references.map(\.tool))))
            for reference in references where !known.contains(reference.tool) {
                errors.append(
                    FlowIssue(
                        path: reference.path, code: "UNKNOWN_TOOL",
                        message: "no tool has the id or name '\(reference.tool.prefix(200))' in this tenant; "
                            + "create it first"))
            }
        }
        return FlowCheck(errors: errors, warnings: validation.warnings)
    }

    /// The `tool` nodes' references (an id or a name) with the JSON path of each, in the
    /// validator's shape (`$.nodes[3].tool`).
    static func toolReferences(_ json: String) -> [(path: String, tool: String)] {
        guard let nodes = (try? JSONValue.parse(json))?["nodes"]?.arrayValue else { return [] }
        return nodes.enumerated().compactMap { index, node in
            guard node["kind"]?.stringValue == "tool", let tool = node["tool"]?.stringValue, !tool.isEmpty else {
                return nil
            }
            return ("$.nodes[\(index)].tool", tool)
        }
    }

    /// Refuses (FAILED_PRECONDITION) while a run of the agent is pending, running or waiting for
    /// input, as the execution service reports it. When that service cannot be asked the answer
    /// is UNAVAILABLE and nothing is deleted: deleting blindly could pull the agent from under a
    /// run. Conversations are not enough to know: runs also start without one (Execute with an
    /// agent reference).
    private func requireNoActiveRun(agentID: String) async throws {
        var active: Agentplane_V1_Run?
        do {
            let client = Agentplane_V1_ExecutionService.Client(try peers.client(for: .execution))
            for status in [Agentplane_V1_RunStatus.running, .pending, .waitingForInput] where active == nil {
                var request = Agentplane_V1_ListRunsRequest()
                request.agentID = agentID
                request.status = status
                request.pageSize = 10
                // Pages on only while every run seen was a wait that turned out expired.
                repeat {
                    let page = try await client.listRuns(request)
                    for run in page.runs where active == nil {
                        active = status == .waitingForInput ? try await stillWaiting(run, client: client) : run
                    }
                    request.pageToken = page.nextPageToken
                } while active == nil && !request.pageToken.isEmpty
            }
        } catch {
            let reason = (error as? RPCError).map { "\($0.code): \($0.message)" } ?? "\(error)"
            throw RPCError(
                code: .unavailable,
                message: "cannot ask the execution service whether a run of this agent is in progress (\(reason)); "
                    + "nothing was deleted, retry")
        }
        if let run = active {
            throw RPCError(
                code: .failedPrecondition,
                message: "run \(run.id) of this agent is in progress (\(run.status)); "
                    + "wait for it to end or cancel it (ExecutionService.CancelRun), then delete the agent")
        }
    }

    /// A waiting run as GetRun sees it, nil once over: ListRuns reports the stored status, while
    /// GetRun also ends a run whose input wait expired (the execution service's input TTL).
    private func stillWaiting(_ run: Agentplane_V1_Run, client: Agentplane_V1_ExecutionService.Client)
        async throws -> Agentplane_V1_Run?
    {
        var request = Agentplane_V1_GetRunRequest()
        request.runID = run.id
        do {
            guard let current = try await client.getRun(request).run else { return nil }
            return [.pending, .running, .waitingForInput].contains(current.status) ? current : nil
        } catch let error as RPCError where error.code == .notFound {
            return nil
        }
    }

    static func violation(_ issue: FlowIssue) -> Agentplane_V1_FieldViolation {
        var violation = Agentplane_V1_FieldViolation()
        violation.field = issue.path
        violation.code = issue.code
        violation.explanation = issue.message
        return violation
    }

    /// The checked definition of a save: name, sizes, and a valid flow whose tools exist.
    private func definition(
        name: String, description: String, flowJSON: String, tags: [String], metadata: [String: String],
        tenant: String
    ) async throws -> AgentDefinition {
        try RPCErrors.requireText(name, field: "name")
        if description.count > 10_000 {
            throw RPCErrors.invalid("description", "TOO_LONG", "description must be at most 10000 characters")
        }
        if tags.count > 50 || tags.contains(where: { $0.isEmpty || $0.count > 100 }) {
            throw RPCErrors.invalid("tags", "INVALID_TAGS", "at most 50 tags of 1 to 100 characters")
        }
        if metadata.count > 100 || metadata.contains(where: { $0.key.count > 200 || $0.value.count > 2000 }) {
            throw RPCErrors.invalid(
                "metadata", "TOO_LARGE", "at most 100 entries, keys ≤ 200, values ≤ 2000 characters")
        }
        try Self.checkSize(flowJSON)
        let validation = try await context.transaction(tenant: tenant) { session in
            try await check(flowJSON, tenant: tenant, in: session)
        }
        if !validation.isValid {
            let violations = validation.errors.map(Self.violation)
            throw RPCError.withDetails(
                .invalidArgument,
                "flow_json fails validation: " + validation.errors.map(\.description).joined(separator: "; "),
                reason: "FLOW_INVALID", violations: violations)
        }
        var unique: [String] = []
        for tag in tags where !unique.contains(tag) { unique.append(tag) }
        return AgentDefinition(
            name: name, description: description, flowJSON: flowJSON, tags: unique, metadata: metadata)
    }
}

/// The outcome of checking a flow for a save: the validator's issues plus unknown tools.
struct FlowCheck: Sendable {
    var errors: [FlowIssue]
    var warnings: [FlowIssue]
    var isValid: Bool { errors.isEmpty }
}
