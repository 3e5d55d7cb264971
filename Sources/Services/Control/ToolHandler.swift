import Crypto
import FlowEngine
import FlowEngineProto
import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimePostgres
import RuntimeSecurity
import Saturating
import ToolRouting

/// ToolService: tool configurations with secrets sealed at rest, and ExecuteTool, which routes a
/// call to the integration for the tool's kind.
///
/// A tool's secrets are bound to the origin (scheme, host, port) they were saved for — the one
/// the tool sends them to (`ToolKindRules.secretOrigin`). An update that points the tool at
/// another origin must supply its secrets again (FAILED_PRECONDITION otherwise), and ExecuteTool
/// sends secrets only to the origin they are bound to.
struct ToolHandler: Agentplane_V1_ToolService.ServiceProtocol {
    let context: ControlContext
    let secretBox: SecretBox?
    let executor: ToolExecutor
    /// The longest per-call timeout a tool may have; longer ones are refused at save time and
    /// clamped at execution (for rows written before the check).
    static let maximumTimeout = ToolCall.maximumTimeout

    func createTool(request: Agentplane_V1_CreateToolRequest, context server: ServerContext) async throws
        -> Agentplane_V1_CreateToolResponse
    {
        let caller = try AuthContext.require(minimum: .builder)
        guard ToolKindRules.supported.contains(request.kind) else {
            throw RPCErrors.invalid(
                "kind", "UNKNOWN_KIND", "kind must be one of kb_search, ticketing, notification, llm, http")
        }
        let secrets = request.secrets.filter { !$0.value.isEmpty }
        let id = UUID().uuidString.lowercased()
        var definition = try Self.definition(
            name: request.name, description: request.description, kind: request.kind, config: request.config,
            inputSchema: request.inputSchema, timeout: request.timeout, enabled: request.enabled,
            secretNames: Set(secrets.keys), newSecrets: secrets)
        try bind(secrets, to: &definition, tenant: caller.tenantID, toolID: id)
        let stored: StoredTool
        do {
            stored = try await context.transaction(tenant: caller.tenantID) { session in
                try await ToolStore(session: session, tenant: caller.tenantID).create(
                    id: id, definition: definition, author: caller.effectiveUserID)
            }
        } catch let error as PostgresError where error.code == .uniqueViolation {
            throw Self.nameTaken(request.name)
        }
        await publish(stored.tool, type: "tool.created", caller: caller)
        var response = Agentplane_V1_CreateToolResponse()
        response.tool = stored.tool
        return response
    }

    func getTool(request: Agentplane_V1_GetToolRequest, context server: ServerContext) async throws
        -> Agentplane_V1_GetToolResponse
    {
        let caller = try Self.reader()
        try Self.requireID(request.toolID)
        let stored = try await context.transaction(tenant: caller.tenantID) { session in
            try await ToolStore(session: session, tenant: caller.tenantID).tool(idOrName: request.toolID)
        }
        guard let stored else { throw RPCErrors.notFound("tool", request.toolID) }
        var response = Agentplane_V1_GetToolResponse()
        response.tool = stored.tool
        return response
    }

    func listTools(request: Agentplane_V1_ListToolsRequest, context server: ServerContext) async throws
        -> Agentplane_V1_ListToolsResponse
    {
        let caller = try Self.reader()
        let limit = try Pagination.pageSize(request.pageSize)
        let filters = "tools|\(request.kind.rawValue)"
        let after = try Pagination.cursor(from: request.pageToken, filters: filters)?.first
        let rows = try await context.transaction(tenant: caller.tenantID) { session in
            try await ToolStore(session: session, tenant: caller.tenantID).list(
                kind: request.kind, afterName: after, limit: limit)
        }
        var response = Agentplane_V1_ListToolsResponse()
        response.tools = rows.prefix(limit).map(\.tool)
        if rows.count > limit, let last = response.tools.last {
            response.nextPageToken = Pagination.token(cursor: [last.name], filters: filters)
        }
        return response
    }

    func updateTool(request: Agentplane_V1_UpdateToolRequest, context server: ServerContext) async throws
        -> Agentplane_V1_UpdateToolResponse
    {
        let caller = try AuthContext.require(minimum: .builder)
        try Self.requireID(request.toolID)
        let stored: StoredTool
        do {
            stored = try await context.transaction(tenant: caller.tenantID) { session in
                let store = ToolStore(session: session, tenant: caller.tenantID)
                guard let current = try await store.tool(idOrName: request.toolID, lock: true),
                    current.tool.id == request.toolID
                else { throw RPCErrors.notFound("tool", request.toolID) }
                if request.expectedRevision != 0, request.expectedRevision != current.tool.revision {
                    throw RPCError(
                        code: .aborted,
                        message: "tool \(current.tool.id) is at revision \(current.tool.revision), not "
                            + "\(request.expectedRevision); read it again and retry")
                }
                // A name with a value sets it, an empty value deletes it, names not listed are kept.
                var secrets = request.secrets.filter { !$0.value.isEmpty }
                let kept = Set(current.tool.secretNames).subtracting(request.secrets.keys)
                var definition = try Self.definition(
                    name: request.name, description: request.description, kind: current.tool.kind,
                    config: request.config, inputSchema: request.inputSchema, timeout: request.timeout,
                    enabled: request.enabled, secretNames: kept.union(secrets.keys), newSecrets: secrets)
                if !kept.isEmpty {
                    // Kept secrets stay bound to their origin: the tool may not point elsewhere
                    // unless they are supplied again (or deleted).
                    guard let bound = current.secretsOrigin else { throw Self.unboundSecrets(kept, tool: current.tool) }
                    let old = try open(
                        current.sealedSecrets, tenant: caller.tenantID, toolID: current.tool.id, origin: bound)
                    for name in kept { secrets[name] = old[name] }
                    let origin = ToolKindRules.secretOrigin(
                        kind: current.tool.kind, config: definition.config, secrets: secrets)
                    if origin != bound { throw Self.originChanged(kept, to: origin) }
                }
                try bind(secrets, to: &definition, tenant: caller.tenantID, toolID: current.tool.id)
                return try await store.update(id: current.tool.id, definition: definition)
            }
        } catch let error as PostgresError where error.code == .uniqueViolation {
            throw Self.nameTaken(request.name)
        }
        await publish(stored.tool, type: "tool.updated", caller: caller)
        var response = Agentplane_V1_UpdateToolResponse()
        response.tool = stored.tool
        return response
    }

    func deleteTool(request: Agentplane_V1_DeleteToolRequest, context server: ServerContext) async throws
        -> Agentplane_V1_DeleteToolResponse
    {
        let caller = try AuthContext.require(minimum: .builder)
        try Self.requireID(request.toolID)
        let deleted = try await context.transaction(tenant: caller.tenantID) { session in
            try await ToolStore(session: session, tenant: caller.tenantID).delete(id: request.toolID)
        }
        guard deleted else { throw RPCErrors.notFound("tool", request.toolID) }
        await context.events.publish(
            tenant: caller.tenantID, type: "tool.deleted", subject: request.toolID, actor: caller.effectiveUserID)
        return Agentplane_V1_DeleteToolResponse()
    }

    func executeTool(request: Agentplane_V1_ExecuteToolRequest, context server: ServerContext) async throws
        -> Agentplane_V1_ExecuteToolResponse
    {
        guard let caller = AuthContext.current else { throw RPCErrors.unauthenticated }
        if caller.role != .service { try AuthContext.require(minimum: .builder) }
        try Self.requireID(request.toolID)
        if request.idempotencyKey.count > 300 {
            throw RPCErrors.invalid("idempotency_key", "TOO_LONG", "idempotency_key must be at most 300 characters")
        }
        let arguments = ProtoJSON.members(request.arguments)
        let (stored, replay) = try await context.transaction(tenant: caller.tenantID) { session in
            let store = ToolStore(session: session, tenant: caller.tenantID)
            let stored = try await store.tool(idOrName: request.toolID)
            let replay = request.idempotencyKey.isEmpty ? nil : try await store.execution(key: request.idempotencyKey)
            return (stored, replay)
        }
        guard let stored else { throw RPCErrors.notFound("tool", request.toolID) }
        let hash = Self.requestHash(toolID: stored.tool.id, arguments: arguments)
        if let replay {
            guard replay.requestHash == hash else {
                throw RPCError(
                    code: .failedPrecondition,
                    message:
                        "idempotency_key \(ClientInput.excerpt(request.idempotencyKey)) was used with another tool "
                        + "or other arguments")
            }
            return Self.response(replay.result, elapsedMilliseconds: replay.elapsedMilliseconds, replayed: true)
        }
        guard stored.tool.enabled else {
            throw RPCError(code: .failedPrecondition, message: "tool \(stored.tool.name) is disabled; enable it first")
        }
        let schema = stored.tool.inputSchema.map { ProtoJSON.members($0) }
        let violations = ToolArgumentValidator.violations(arguments, schema: schema)
        if !violations.isEmpty {
            throw ToolArgumentValidator.error(violations, what: "arguments do not match the tool's input_schema")
        }
        let (secrets, origin) = try boundSecrets(of: stored, tenant: caller.tenantID)
        let timeout = ToolCall.timeout(of: stored.tool)
        let started = ContinuousClock.now
        let result = try await executor.execute(
            ToolCall(
                tool: stored.tool, secrets: secrets, secretsOrigin: origin, arguments: arguments,
                idempotencyKey: request.idempotencyKey, runID: request.runID, conversationID: request.conversationID,
                timeout: timeout))
        let milliseconds = (ContinuousClock.now - started).saturatingMilliseconds
        if !request.idempotencyKey.isEmpty {
            let record = ToolExecutionRecord(requestHash: hash, result: result, elapsedMilliseconds: milliseconds)
            let earlier: ToolExecutionRecord? = try await context.transaction(tenant: caller.tenantID) { session in
                let store = ToolStore(session: session, tenant: caller.tenantID)
                if try await store.record(key: request.idempotencyKey, toolID: stored.tool.id, execution: record) {
                    return nil
                }
                return try await store.execution(key: request.idempotencyKey)
            }
            // A concurrent call with the same key recorded first: answer as it did.
            if let earlier, earlier.requestHash == hash {
                return Self.response(earlier.result, elapsedMilliseconds: earlier.elapsedMilliseconds, replayed: true)
            }
        }
        context.logger.info(
            "tool executed",
            metadata: ["tool": "\(stored.tool.id)", "kind": "\(stored.tool.kind)", "elapsed_ms": "\(milliseconds)"])
        return Self.response(result, elapsedMilliseconds: milliseconds, replayed: false)
    }

    // MARK: - Helpers

    private static func response(_ result: [String: JSONValue], elapsedMilliseconds: Int64, replayed: Bool)
        -> Agentplane_V1_ExecuteToolResponse
    {
        var response = Agentplane_V1_ExecuteToolResponse()
        response.result = ProtoJSON.structure(result)
        response.replayed = replayed
        response.elapsed = Google_Protobuf_Duration(.milliseconds(elapsedMilliseconds))
        return response
    }

    static func requestHash(toolID: String, arguments: [String: JSONValue]) -> String {
        let text = toolID + "\n" + JSONValue.object(arguments).jsonText
        return SHA256.hash(data: Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The tool's secrets, opened, and the origin they are bound to; refused (FAILED_PRECONDITION,
    /// nothing sent) when they were saved before origins were recorded or the tool now points
    /// at another origin than the one they were saved for.
    private func boundSecrets(of stored: StoredTool, tenant: String) throws -> (
        secrets: [String: String], origin: String
    ) {
        if stored.sealedSecrets.isEmpty { return ([:], "") }
        guard let bound = stored.secretsOrigin else {
            throw Self.unboundSecrets(Set(stored.tool.secretNames), tool: stored.tool)
        }
        let secrets = try open(stored.sealedSecrets, tenant: tenant, toolID: stored.tool.id, origin: bound)
        let target = ToolKindRules.secretOrigin(
            kind: stored.tool.kind, config: ProtoJSON.members(stored.tool.config), secrets: secrets)
        guard target == bound else {
            context.logger.warning(
                "tool secrets bound to another origin; not sent", metadata: ["tool": "\(stored.tool.id)"])
            throw RPCError.withDetails(
                .failedPrecondition,
                "the secrets of tool \(stored.tool.id) were saved for another origin than the one it now calls "
                    + "(\(target.isEmpty ? "none" : target)); supply them again with UpdateTool",
                reason: "SECRETS_ORIGIN_MISMATCH")
        }
        return (secrets, bound)
    }

    /// Seals `secrets` into `definition`, bound to the origin the tool sends them to.
    private func bind(
        _ secrets: [String: String], to definition: inout ToolDefinition, tenant: String, toolID: String
    ) throws {
        definition.secretNames = secrets.keys.sorted()
        guard !secrets.isEmpty else {
            definition.sealedSecrets = ""
            definition.secretsOrigin = nil
            return
        }
        let origin = ToolKindRules.secretOrigin(kind: definition.kind, config: definition.config, secrets: secrets)
        definition.sealedSecrets = try seal(secrets, tenant: tenant, toolID: toolID, origin: origin)
        definition.secretsOrigin = origin
    }

    /// The secrets as one sealed JSON object, bound to the tenant, the tool and the origin.
    private func seal(_ secrets: [String: String], tenant: String, toolID: String, origin: String) throws -> String {
        if secrets.isEmpty { return "" }
        let box = try SecretBox.required(secretBox)
        return try box.sealString(
            RowDecoding.json(secrets), context: Self.secretContext(tenant: tenant, toolID: toolID, origin: origin))
    }

    private func open(_ sealed: String, tenant: String, toolID: String, origin: String) throws -> [String: String] {
        if sealed.isEmpty { return [:] }
        let box = try SecretBox.required(secretBox)
        let text: String
        do {
            text = try box.openString(
                sealed, context: Self.secretContext(tenant: tenant, toolID: toolID, origin: origin))
        } catch {
            context.logger.error("tool secrets cannot be opened", metadata: ["tool": "\(toolID)", "error": "\(error)"])
            throw RPCError(
                code: .failedPrecondition,
                message: "the secrets of tool \(toolID) cannot be decrypted (SECRET_BOX_KEYS changed?); set them again")
        }
        return RowDecoding.decodeJSON(text, as: [String: String].self, default: [:])
    }

    /// The secret box context: the tenant, the tool and the origin the secrets are bound to, so
    /// a ciphertext opens only for them.
    static func secretContext(tenant: String, toolID: String, origin: String) -> String {
        "\(tenant)/tool/\(toolID)/secrets|origin=\(origin)"
    }

    /// Kept secrets saved before origins were recorded: their origin is unknown, so they must be
    /// supplied again.
    private static func unboundSecrets(_ names: Set<String>, tool: Agentplane_V1_Tool) -> RPCError {
        RPCError.withDetails(
            .failedPrecondition,
            "the secrets \(names.sorted().joined(separator: ", ").prefix(300)) of tool \(tool.id) were saved "
                + "before secrets were bound to an origin; supply them again with UpdateTool (or delete them)",
            reason: "SECRETS_NOT_BOUND")
    }

    /// An update that would send kept secrets to another origin.
    private static func originChanged(_ kept: Set<String>, to origin: String) -> RPCError {
        RPCError.withDetails(
            .failedPrecondition,
            "the tool's secrets \(kept.sorted().joined(separator: ", ").prefix(300)) are bound to the origin they "
                + "were saved for, and this update points the tool at another one "
                + "(\(origin.isEmpty ? "none" : String(origin.prefix(300)))); supply them again in the same "
                + "UpdateTool (or delete them with empty values)",
            reason: "SECRETS_BOUND_TO_ORIGIN")
    }

    /// The checked definition of a save: `secretNames` are the names the tool will have,
    /// `newSecrets` the values this call supplies (checked here). The secrets are sealed by
    /// `bind`.
    private static func definition(
        name: String, description: String, kind: Agentplane_V1_ToolKind, config: Google_Protobuf_Struct?,
        inputSchema: Google_Protobuf_Struct?, timeout: Google_Protobuf_Duration?, enabled: Bool,
        secretNames: Set<String>, newSecrets: [String: String]
    ) throws -> ToolDefinition {
        try RPCErrors.requireText(name, field: "name")
        if description.count > 4000 {
            throw RPCErrors.invalid("description", "TOO_LONG", "description must be at most 4000 characters")
        }
        let duration = timeout?.duration ?? .zero
        if duration < .zero || duration > maximumTimeout {
            throw RPCErrors.invalid("timeout", "OUT_OF_RANGE", "timeout must be between 0 (30 s) and 300 seconds")
        }
        if secretNames.count > 20 { throw RPCErrors.invalid("secrets", "TOO_MANY", "at most 20 secrets per tool") }
        for (secretName, value) in newSecrets
        where secretName.isEmpty || secretName.count > 100 || value.utf8.count > 16_384 {
            throw RPCErrors.invalid(
                "secrets", "INVALID_SECRET", "secret names must have 1-100 characters and values at most 16 KiB")
        }
        let members = ProtoJSON.members(config)
        let schema = inputSchema.map { ProtoJSON.members($0) }
        var problems = ToolKindRules.problems(kind: kind, config: members, secretNames: secretNames)
        if let schema { problems += ToolArgumentValidator.schemaProblems(schema) }
        if !problems.isEmpty { throw ToolArgumentValidator.error(problems, what: "the tool's settings are invalid") }
        let size =
            JSONValue.object(members).jsonText.utf8.count
            + (schema.map { JSONValue.object($0).jsonText.utf8.count } ?? 0)
        if size > 256 * 1024 {
            throw RPCErrors.invalid("config", "TOO_LARGE", "config and input_schema must be at most 256 KiB together")
        }
        return ToolDefinition(
            name: name, description: description, kind: kind, config: members, inputSchema: schema,
            sealedSecrets: "", secretsOrigin: nil, secretNames: secretNames.sorted(),
            timeoutMilliseconds: duration.saturatingMilliseconds, enabled: enabled)
    }

    private func publish(_ tool: Agentplane_V1_Tool, type: String, caller: AuthContext) async {
        await context.events.publish(
            tenant: caller.tenantID, type: type, subject: tool.id, actor: caller.effectiveUserID,
            fields: ["revision": String(tool.revision), "kind": "\(tool.kind)"])
    }

    /// Readers: member or above, or a service token (the policy lets those through, and a flow's
    /// run may look a tool up).
    static func reader() throws -> AuthContext {
        guard let caller = AuthContext.current else { throw RPCErrors.unauthenticated }
        if caller.role == .service { return caller }
        return try AuthContext.require(minimum: .member)
    }

    private static func requireID(_ id: String) throws {
        if id.isEmpty { throw RPCErrors.invalid("tool_id", "MISSING_FIELD", "tool_id is required") }
    }

    private static func nameTaken(_ name: String) -> RPCError {
        RPCError(code: .alreadyExists, message: "a tool named \"\(name.prefix(200))\" already exists in this tenant")
    }
}
