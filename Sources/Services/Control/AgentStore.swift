import Foundation
import RPCModels
import RuntimePostgres

/// An agent definition about to become a version.
struct AgentDefinition: Sendable {
    var name: String
    var description: String
    var flowJSON: String
    var tags: [String]
    var metadata: [String: String]
}

/// An agent's identity row, locked while a new version is written.
struct AgentHead: Sendable {
    var name: String
    var latestVersion: Int32
}

/// Agents and their immutable versions, in one tenant.
struct AgentStore: Sendable {
    let session: PostgresSession
    let tenant: String

    static let columns = """
        a.id, v.name, v.description, v.flow_json, v.tags::text AS tags, v.metadata::text AS metadata, v.version,
        a.latest_version, v.author_id, v.change_message, v.restored_from_version, a.created_by,
        (extract(epoch FROM a.created_at) * 1000000)::bigint AS created_at_us,
        (extract(epoch FROM v.created_at) * 1000000)::bigint AS updated_at_us
        """

    func create(id: String, definition: AgentDefinition, author: String, message: String) async throws
        -> Agentplane_V1_Agent
    {
        _ = try await session.query(
            """
            INSERT INTO control.agents (tenant_id, id, name, latest_version, created_by) VALUES ($1, $2, $3, 1, $4)
            """, tenant, id, definition.name, author)
        try await insertVersion(agentID: id, version: 1, definition: definition, author: author, message: message)
        guard let agent = try await agent(id: id, version: 1) else { throw Self.vanished(id) }
        return agent
    }

    /// Locks the agent's row so concurrent saves take consecutive version numbers in turn.
    func lock(id: String) async throws -> AgentHead? {
        try await session.query(
            "SELECT name, latest_version FROM control.agents WHERE tenant_id = $1 AND id = $2 FOR UPDATE", tenant, id
        ).first.map {
            AgentHead(name: try $0.decode("name"), latestVersion: Int32(try $0.decode("latest_version", as: Int.self)))
        }
    }

    /// Appends version `head.latestVersion + 1` and makes it the latest.
    func append(
        id: String, after head: AgentHead, definition: AgentDefinition, author: String, message: String,
        restoredFrom: Int32 = 0
    ) async throws -> Agentplane_V1_Agent {
        let version = head.latestVersion + 1
        _ = try await session.query(
            "UPDATE control.agents SET name = $3, latest_version = $4 WHERE tenant_id = $1 AND id = $2", tenant, id,
            definition.name, Int(version))
        try await insertVersion(
            agentID: id, version: version, definition: definition, author: author, message: message,
            restoredFrom: restoredFrom)
        guard let agent = try await agent(id: id, version: version) else { throw Self.vanished(id) }
        return agent
    }

    private func insertVersion(
        agentID: String, version: Int32, definition: AgentDefinition, author: String, message: String,
        restoredFrom: Int32 = 0
    ) async throws {
        _ = try await session.query(
            """
            INSERT INTO control.agent_versions (tenant_id, agent_id, version, name, description, flow_json, tags,
                metadata, author_id, change_message, restored_from_version)
            VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10, $11)
            """,
            [
                tenant, agentID, Int(version), definition.name, definition.description, definition.flowJSON,
                RowDecoding.json(definition.tags), RowDecoding.json(definition.metadata), author, message,
                Int(restoredFrom),
            ])
    }

    /// The agent at `version` (0: the latest).
    func agent(id: String, version: Int32 = 0) async throws -> Agentplane_V1_Agent? {
        try await session.query(
            """
            SELECT \(Self.columns) FROM control.agents a JOIN control.agent_versions v
                ON v.tenant_id = a.tenant_id AND v.agent_id = a.id
                AND v.version = CASE WHEN $3 = 0 THEN a.latest_version ELSE $3 END
            WHERE a.tenant_id = $1 AND a.id = $2
            """, tenant, id, Int(version)
        ).first.map { try Self.agent($0, withFlow: true) }
    }

    /// Latest versions ordered by name, after `afterName`; one extra row tells a next page exists.
    func list(tags: [String], nameContains: String, afterName: String?, limit: Int) async throws
        -> [Agentplane_V1_Agent]
    {
        var conditions = ["a.tenant_id = $1"]
        var parameters: [(any PostgresEncodable)?] = [tenant]
        func bind(_ value: any PostgresEncodable) -> String {
            parameters.append(value)
            return "$\(parameters.count)"
        }
        if !tags.isEmpty { conditions.append("v.tags @> \(bind(RowDecoding.json(tags)))::jsonb") }
        if !nameContains.isEmpty {
            conditions.append("a.name ILIKE \(bind("%" + UserStore.escapeLike(nameContains) + "%"))")
        }
        if let afterName { conditions.append("a.name > \(bind(afterName))") }
        let sql = """
            SELECT \(Self.columns) FROM control.agents a JOIN control.agent_versions v
                ON v.tenant_id = a.tenant_id AND v.agent_id = a.id AND v.version = a.latest_version
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY a.name LIMIT \(bind(limit + 1))
            """
        return try await session.query(sql, parameters).map { try Self.agent($0, withFlow: false) }
    }

    /// Versions newest first, below `before`; one extra row tells a next page exists.
    func versions(id: String, before: Int32?, limit: Int) async throws -> [Agentplane_V1_AgentVersion] {
        try await session.query(
            """
            SELECT version, author_id, change_message, restored_from_version,
                (extract(epoch FROM created_at) * 1000000)::bigint AS created_at_us
            FROM control.agent_versions WHERE tenant_id = $1 AND agent_id = $2 AND version < $3
            ORDER BY version DESC LIMIT $4
            """, tenant, id, Int(before ?? Int32.max), limit + 1
        ).map { row in
            var version = Agentplane_V1_AgentVersion()
            version.version = Int32(try row.decode("version", as: Int.self))
            version.authorID = try row.decode("author_id")
            version.changeMessage = try row.decode("change_message")
            version.restoredFromVersion = Int32(try row.decode("restored_from_version", as: Int.self))
            version.createdAt = try RowDecoding.timestamp(row, "created_at")
            return version
        }
    }

    /// Deletes the agent and its versions; false when there was none.
    func delete(id: String) async throws -> Bool {
        !(try await session.query(
            "DELETE FROM control.agents WHERE tenant_id = $1 AND id = $2 RETURNING id", tenant, id
        ).isEmpty)
    }

    static func agent(_ row: PostgresRow, withFlow: Bool) throws -> Agentplane_V1_Agent {
        var agent = Agentplane_V1_Agent()
        agent.id = try row.decode("id")
        agent.name = try row.decode("name")
        agent.description = try row.decode("description")
        agent.flowJSON = withFlow ? try row.decode("flow_json") : ""
        agent.tags = RowDecoding.decodeJSON(row["tags"], as: [String].self, default: [])
        agent.metadata = RowDecoding.decodeJSON(row["metadata"], as: [String: String].self, default: [:])
        agent.version = Int32(try row.decode("version", as: Int.self))
        agent.latestVersion = Int32(try row.decode("latest_version", as: Int.self))
        agent.authorID = try row.decode("author_id")
        agent.changeMessage = try row.decode("change_message")
        agent.restoredFromVersion = Int32(try row.decode("restored_from_version", as: Int.self))
        agent.createdBy = try row.decode("created_by")
        agent.createdAt = try RowDecoding.timestamp(row, "created_at")
        agent.updatedAt = try RowDecoding.timestamp(row, "updated_at")
        return agent
    }

    static func vanished(_ id: String) -> PostgresError {
        PostgresError(code: .server, message: "agent \(id) not readable after writing it")
    }
}
