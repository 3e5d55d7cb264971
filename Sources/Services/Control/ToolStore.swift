import FlowEngine
import FlowEngineProto
import Foundation
import RPCModels
import RuntimePostgres

/// A tool row with its sealed secrets, as only the handler sees it.
struct StoredTool: Sendable {
    var tool: Agentplane_V1_Tool
    /// The SecretBox-sealed JSON object of secret values; empty when there are none.
    var sealedSecrets: String
    /// The origin the secrets are bound to ("" for none); nil for secrets saved before origins
    /// were recorded, which are never sent.
    var secretsOrigin: String?
}

/// What a create or update writes.
struct ToolDefinition: Sendable {
    var name: String
    var description: String
    var kind: Agentplane_V1_ToolKind
    var config: [String: JSONValue]
    var inputSchema: [String: JSONValue]?
    var sealedSecrets: String
    /// The origin the sealed secrets are bound to; nil when there are none.
    var secretsOrigin: String?
    var secretNames: [String]
    var timeoutMilliseconds: Int64
    var enabled: Bool
}

/// A stored ExecuteTool result, replayed for a retry with the same idempotency key.
struct ToolExecutionRecord: Sendable {
    var requestHash: String
    var result: [String: JSONValue]
    var elapsedMilliseconds: Int64
}

/// Tools and their execution records, in one tenant.
struct ToolStore: Sendable {
    let session: PostgresSession
    let tenant: String

    static let columns = """
        id, name, description, kind, config::text AS config, input_schema::text AS input_schema, secrets_sealed,
        secrets_origin, secret_names::text AS secret_names, timeout_ms, enabled, revision, created_by,
        (extract(epoch FROM created_at) * 1000000)::bigint AS created_at_us,
        (extract(epoch FROM updated_at) * 1000000)::bigint AS updated_at_us
        """

    func create(id: String, definition: ToolDefinition, author: String) async throws -> StoredTool {
        _ = try await session.query(
            """
            INSERT INTO control.tools (tenant_id, id, name, description, kind, config, input_schema, secrets_sealed,
                secret_names, timeout_ms, enabled, created_by, secrets_origin)
            VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9::jsonb, $10, $11, $12, $13)
            """,
            [
                tenant, id, definition.name, definition.description, Int(definition.kind.rawValue),
                JSONValue.object(definition.config).jsonText,
                definition.inputSchema.map { JSONValue.object($0).jsonText },
                definition.sealedSecrets, RowDecoding.json(definition.secretNames), definition.timeoutMilliseconds,
                definition.enabled, author, definition.secretsOrigin,
            ])
        guard let tool = try await tool(idOrName: id) else { throw Self.vanished(id) }
        return tool
    }

    /// Replaces the definition and bumps the revision; the row must have been locked.
    func update(id: String, definition: ToolDefinition) async throws -> StoredTool {
        _ = try await session.query(
            """
            UPDATE control.tools SET name = $3, description = $4, config = $5::jsonb, input_schema = $6::jsonb,
                secrets_sealed = $7, secret_names = $8::jsonb, timeout_ms = $9, enabled = $10, secrets_origin = $11,
                revision = revision + 1, updated_at = now()
            WHERE tenant_id = $1 AND id = $2
            """,
            [
                tenant, id, definition.name, definition.description, JSONValue.object(definition.config).jsonText,
                definition.inputSchema.map { JSONValue.object($0).jsonText }, definition.sealedSecrets,
                RowDecoding.json(definition.secretNames), definition.timeoutMilliseconds, definition.enabled,
                definition.secretsOrigin,
            ])
        guard let tool = try await tool(idOrName: id) else { throw Self.vanished(id) }
        return tool
    }

    /// The tool with this id, else the one with this name (flows reference either).
    func tool(idOrName: String, lock: Bool = false) async throws -> StoredTool? {
        try await session.query(
            """
            SELECT \(Self.columns) FROM control.tools WHERE tenant_id = $1 AND (id = $2 OR name = $2)
            ORDER BY (id = $2) DESC LIMIT 1 \(lock ? "FOR UPDATE" : "")
            """, tenant, idOrName
        ).first.map(Self.tool)
    }

    /// The tools `references` name, by id or by name (one query for a flow's tools).
    func tools(references: [String]) async throws -> [StoredTool] {
        try await session.query(
            """
            SELECT \(Self.columns) FROM control.tools
            WHERE tenant_id = $1 AND (id IN (SELECT jsonb_array_elements_text($2::jsonb))
                OR name IN (SELECT jsonb_array_elements_text($2::jsonb)))
            """, tenant, RowDecoding.json(references)
        ).map(Self.tool)
    }

    /// Which of `references` name a tool of the tenant, by id or by name (one query for a flow's tools).
    func existing(references: [String]) async throws -> Set<String> {
        Set(
            try await session.query(
                """
                SELECT r.reference FROM jsonb_array_elements_text($2::jsonb) AS r(reference)
                WHERE EXISTS (
                    SELECT 1 FROM control.tools t WHERE t.tenant_id = $1 AND (t.id = r.reference OR t.name = r.reference))
                """, tenant, RowDecoding.json(references)
            ).map { try $0.decode("reference", as: String.self) })
    }

    /// Tools ordered by name after `afterName`; one extra row tells a next page exists.
    func list(kind: Agentplane_V1_ToolKind, afterName: String?, limit: Int) async throws -> [StoredTool] {
        try await session.query(
            """
            SELECT \(Self.columns) FROM control.tools
            WHERE tenant_id = $1 AND ($2 = 0 OR kind = $2) AND name > $3 ORDER BY name LIMIT $4
            """, tenant, Int(kind.rawValue), afterName ?? "", limit + 1
        ).map(Self.tool)
    }

    /// Deletes the tool; false when there was none.
    func delete(id: String) async throws -> Bool {
        !(try await session.query(
            "DELETE FROM control.tools WHERE tenant_id = $1 AND id = $2 RETURNING id", tenant, id
        ).isEmpty)
    }

    func execution(key: String) async throws -> ToolExecutionRecord? {
        try await session.query(
            """
            SELECT request_hash, result::text AS result, elapsed_ms FROM control.tool_executions
            WHERE tenant_id = $1 AND idempotency_key = $2
            """, tenant, key
        ).first.map { row in
            ToolExecutionRecord(
                requestHash: try row.decode("request_hash"),
                result: (try? JSONValue.parse(try row.decode("result", as: String.self)))?.objectValue ?? [:],
                elapsedMilliseconds: try row.decode("elapsed_ms"))
        }
    }

    /// Records a result; false when another call recorded one for the key first.
    func record(key: String, toolID: String, execution: ToolExecutionRecord) async throws -> Bool {
        !(try await session.query(
            """
            INSERT INTO control.tool_executions (tenant_id, idempotency_key, tool_id, request_hash, result, elapsed_ms)
            VALUES ($1, $2, $3, $4, $5::jsonb, $6) ON CONFLICT DO NOTHING RETURNING idempotency_key
            """,
            [
                tenant, key, toolID, execution.requestHash, JSONValue.object(execution.result).jsonText,
                execution.elapsedMilliseconds,
            ]
        ).isEmpty)
    }

    static func tool(_ row: PostgresRow) throws -> StoredTool {
        var tool = Agentplane_V1_Tool()
        tool.id = try row.decode("id")
        tool.name = try row.decode("name")
        tool.description = try row.decode("description")
        tool.kind = Agentplane_V1_ToolKind(rawValue: Int32(try row.decode("kind", as: Int.self)))
        tool.config = ProtoJSON.structure(ProtoJSON.members(text: try row.decode("config")))
        if let schema: String = row["input_schema"] {
            tool.inputSchema = ProtoJSON.structure(ProtoJSON.members(text: schema))
        }
        tool.secretNames = RowDecoding.decodeJSON(row["secret_names"], as: [String].self, default: [])
        let milliseconds = try row.decode("timeout_ms", as: Int64.self)
        if milliseconds > 0 { tool.timeout = Google_Protobuf_Duration(.milliseconds(milliseconds)) }
        tool.enabled = try row.decode("enabled")
        tool.revision = try row.decode("revision")
        tool.createdBy = try row.decode("created_by")
        tool.createdAt = try RowDecoding.timestamp(row, "created_at")
        tool.updatedAt = try RowDecoding.timestamp(row, "updated_at")
        return StoredTool(
            tool: tool, sealedSecrets: try row.decode("secrets_sealed"), secretsOrigin: row["secrets_origin"])
    }

    static func vanished(_ id: String) -> PostgresError {
        PostgresError(code: .server, message: "tool \(id) not readable after writing it")
    }
}
