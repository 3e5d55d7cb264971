import Foundation
import RPCModels
import RuntimePostgres

/// A message about to be saved.
struct NewMessage: Sendable {
    var conversationID: String
    var role: Agentplane_V1_MessageRole
    var content: String
    var runID: String = ""
    var authorID: String = ""
    var metadata: [String: String] = [:]
    var idempotencyKey: String?
}

/// Conversations and their messages, in one tenant.
struct ConversationStore: Sendable {
    let session: PostgresSession
    let tenant: String

    static let columns = """
        id, agent_id, agent_version, title, status, active_run_id, pending_interrupt, created_by,
        metadata::text AS metadata, \(RowDecoding.micros("created_at")), \(RowDecoding.micros("updated_at")),
        \(RowDecoding.micros("last_message_at")), \(RowDecoding.micros("last_activity_at"))
        """
    static let messageColumns = """
        id, seq, conversation_id, role, content, run_id, author_id, metadata::text AS metadata, idempotency_key,
        \(RowDecoding.micros("created_at"))
        """

    func create(
        id: String, agentID: String, version: Int32, title: String, metadata: [String: String], author: String
    ) async throws -> Agentplane_V1_Conversation {
        let rows = try await session.query(
            """
            INSERT INTO control.conversations (tenant_id, id, agent_id, agent_version, title, created_by, metadata)
            VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) RETURNING \(Self.columns)
            """, tenant, id, agentID, Int(version), title, author, RowDecoding.json(metadata))
        guard let row = rows.first else { throw Self.vanished(id) }
        return try Self.conversation(row)
    }

    func conversation(id: String, lock: Bool = false) async throws -> Agentplane_V1_Conversation? {
        try await session.query(
            "SELECT \(Self.columns) FROM control.conversations WHERE tenant_id = $1 AND id = $2 \(lock ? "FOR UPDATE" : "")",
            tenant, id
        ).first.map(Self.conversation)
    }

    /// Most recently active first, after the cursor (activity µs, id); one extra row tells a next page exists.
    func list(
        createdBy: String?, agentID: String, status: Agentplane_V1_ConversationStatus, after: (Int64, String)?,
        limit: Int
    ) async throws -> [(Agentplane_V1_Conversation, Int64)] {
        var conditions = ["tenant_id = $1"]
        var parameters: [(any PostgresEncodable)?] = [tenant]
        func bind(_ value: any PostgresEncodable) -> String {
            parameters.append(value)
            return "$\(parameters.count)"
        }
        if let createdBy { conditions.append("created_by = \(bind(createdBy))") }
        if !agentID.isEmpty { conditions.append("agent_id = \(bind(agentID))") }
        if status != .unspecified { conditions.append("status = \(bind(Int(status.rawValue)))") }
        if let after {
            let micros = bind(after.0)
            let id = bind(after.1)
            conditions.append(
                "((extract(epoch FROM last_activity_at) * 1000000)::bigint, id) < (\(micros)::bigint, \(id))")
        }
        let sql = """
            SELECT \(Self.columns) FROM control.conversations WHERE \(conditions.joined(separator: " AND "))
            ORDER BY last_activity_at DESC, id DESC LIMIT \(bind(limit + 1))
            """
        return try await session.query(sql, parameters).map { row in
            (try Self.conversation(row), try row.decode("last_activity_at_us", as: Int64.self))
        }
    }

    /// Sets where the conversation's run stands.
    func setStatus(
        id: String, _ status: Agentplane_V1_ConversationStatus, runID: String,
        interrupt: Agentplane_V1_Interrupt? = nil
    ) async throws {
        _ = try await session.query(
            """
            UPDATE control.conversations SET status = $3, active_run_id = $4, pending_interrupt = $5, updated_at = now()
            WHERE tenant_id = $1 AND id = $2
            """, tenant, id, Int(status.rawValue), runID, interrupt?.serializedBytes() ?? [])
    }

    /// Deletes a conversation and (by the foreign key's cascade) its messages; false when there
    /// is no such conversation.
    func delete(id: String) async throws -> Bool {
        try await !session.query(
            "DELETE FROM control.conversations WHERE tenant_id = $1 AND id = $2 RETURNING id", tenant, id
        ).isEmpty
    }

    /// Records `runID` as the run of a RUNNING conversation that has no run id yet or already
    /// this one; a conversation that moved on meanwhile is left alone.
    func adopt(id: String, runID: String) async throws {
        _ = try await session.query(
            """
            UPDATE control.conversations SET active_run_id = $4, updated_at = now()
            WHERE tenant_id = $1 AND id = $2 AND status = $3 AND active_run_id IN ('', $4)
            """, tenant, id, Int(Agentplane_V1_ConversationStatus.running.rawValue), runID)
    }

    /// Marks a RUNNING conversation IDLE when its run is still `runID`; false when it changed meanwhile.
    func release(id: String, runID: String) async throws -> Bool {
        !(try await session.query(
            """
            UPDATE control.conversations SET status = $3, active_run_id = '', pending_interrupt = ''::bytea,
                updated_at = now()
            WHERE tenant_id = $1 AND id = $2 AND status = $4 AND active_run_id = $5 RETURNING id
            """, tenant, id, Int(Agentplane_V1_ConversationStatus.idle.rawValue),
            Int(Agentplane_V1_ConversationStatus.running.rawValue), runID
        ).isEmpty)
    }

    /// Marks a RUNNING conversation IDLE when its run is still `runID` and it has not changed for
    /// `olderThanMilliseconds`: a run the execution service does not know, which may be one the
    /// control plane named but the execution service has not yet stored.
    func releaseUnknownRun(id: String, runID: String, olderThanMilliseconds: Int64) async throws -> Bool {
        !(try await session.query(
            """
            UPDATE control.conversations SET status = $3, active_run_id = '', pending_interrupt = ''::bytea,
                updated_at = now()
            WHERE tenant_id = $1 AND id = $2 AND status = $4 AND active_run_id = $5
              AND updated_at <= now() - $6::int8 * interval '1 millisecond'
            RETURNING id
            """, tenant, id, Int(Agentplane_V1_ConversationStatus.idle.rawValue),
            Int(Agentplane_V1_ConversationStatus.running.rawValue), runID, olderThanMilliseconds
        ).isEmpty)
    }

    /// Marks a conversation IDLE that has been RUNNING without a run id for at least
    /// `olderThanMilliseconds` (its last change is that old); false when it is not in that state.
    func releaseUnstarted(id: String, olderThanMilliseconds: Int64) async throws -> Bool {
        !(try await session.query(
            """
            UPDATE control.conversations SET status = $3, active_run_id = '', pending_interrupt = ''::bytea,
                updated_at = now()
            WHERE tenant_id = $1 AND id = $2 AND status = $4 AND active_run_id = ''
              AND updated_at <= now() - $5::int8 * interval '1 millisecond'
            RETURNING id
            """, tenant, id, Int(Agentplane_V1_ConversationStatus.idle.rawValue),
            Int(Agentplane_V1_ConversationStatus.running.rawValue), olderThanMilliseconds
        ).isEmpty)
    }

    /// What saving a message also does to the conversation's run, in the same statement as its
    /// activity.
    enum RunTransition {
        /// Nothing.
        case none
        /// RUNNING with the run `runID` (a user message starting it).
        case start(runID: String)
        /// IDLE, when RUNNING with the run `runID` (its answer); otherwise nothing.
        case finish(runID: String)
    }

    /// Saves a message and moves the conversation's activity (and its run: `transition`); the
    /// title defaults to the first user message.
    func append(id: String, _ message: NewMessage, transition: RunTransition = .none) async throws
        -> Agentplane_V1_Message
    {
        guard
            let saved = try await append(id: id, message, transition: transition, unlessKeyUsed: false, commit: false)
        else {
            throw Self.vanished(id)
        }
        return saved
    }

    /// As `append`, but nil (and nothing written) when a message has the idempotency key already.
    /// With `committing`, a saved message's last statement commits the transaction (nothing may
    /// follow it then).
    func appendUnlessKeyUsed(
        id: String, _ message: NewMessage, transition: RunTransition = .none, committing: Bool = false
    ) async throws -> Agentplane_V1_Message? {
        try await append(id: id, message, transition: transition, unlessKeyUsed: true, commit: committing)
    }

    private func append(
        id: String, _ message: NewMessage, transition: RunTransition, unlessKeyUsed: Bool, commit: Bool
    ) async throws -> Agentplane_V1_Message? {
        let rows = try await session.query(
            """
            INSERT INTO control.messages (tenant_id, id, conversation_id, role, content, run_id, author_id, metadata,
                idempotency_key)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)
            \(unlessKeyUsed ? "ON CONFLICT (tenant_id, idempotency_key) DO NOTHING" : "")
            RETURNING \(Self.messageColumns)
            """,
            [
                tenant, id, message.conversationID, Int(message.role.rawValue), message.content, message.runID,
                message.authorID, RowDecoding.json(message.metadata), message.idempotencyKey,
            ])
        guard let row = rows.first else { return nil }
        let title = message.role == .user ? String(message.content.prefix(80)) : ""
        let (change, runID): (Int, String) =
            switch transition {
            case .none: (0, "")
            case .start(let runID): (1, runID)
            case .finish(let runID): (2, runID)
            }
        // The CASEs read the row as it was: the run ends only if it is still the conversation's.
        let activity =
            """
            UPDATE control.conversations SET last_message_at = now(), last_activity_at = now(), updated_at = now(),
                title = CASE WHEN title = '' THEN $3 ELSE title END,
                status = CASE WHEN $4 = 1 THEN $6
                    WHEN $4 = 2 AND status = $6 AND active_run_id = $5 THEN $7 ELSE status END,
                active_run_id = CASE WHEN $4 = 1 THEN $5
                    WHEN $4 = 2 AND status = $6 AND active_run_id = $5 THEN '' ELSE active_run_id END,
                pending_interrupt = CASE WHEN $4 = 1 OR ($4 = 2 AND status = $6 AND active_run_id = $5) THEN ''::bytea
                    ELSE pending_interrupt END
            WHERE tenant_id = $1 AND id = $2
            """
        let parameters: [(any PostgresEncodable)?] = [
            tenant, message.conversationID, title, change, runID,
            Int(Agentplane_V1_ConversationStatus.running.rawValue), Int(Agentplane_V1_ConversationStatus.idle.rawValue),
        ]
        if commit {
            _ = try await session.queryCommitting(activity, parameters)
        } else {
            _ = try await session.query(activity, parameters)
        }
        return try Self.message(row)
    }

    /// The message saved with `key`, if any.
    func message(idempotencyKey key: String) async throws -> Agentplane_V1_Message? {
        try await session.query(
            "SELECT \(Self.messageColumns) FROM control.messages WHERE tenant_id = $1 AND idempotency_key = $2",
            tenant, key
        ).first.map(Self.message)
    }

    func message(id: String, conversationID: String) async throws -> Agentplane_V1_Message? {
        try await session.query(
            """
            SELECT \(Self.messageColumns) FROM control.messages
            WHERE tenant_id = $1 AND id = $2 AND conversation_id = $3
            """, tenant, id, conversationID
        ).first.map(Self.message)
    }

    /// Oldest first after `afterSeq`; one extra row tells a next page exists.
    func messages(conversationID: String, afterSeq: Int64, limit: Int) async throws
        -> [(Agentplane_V1_Message, Int64)]
    {
        try await session.query(
            """
            SELECT \(Self.messageColumns) FROM control.messages
            WHERE tenant_id = $1 AND conversation_id = $2 AND seq > $3 ORDER BY seq LIMIT $4
            """, tenant, conversationID, afterSeq, limit + 1
        ).map { row in (try Self.message(row), try row.decode("seq", as: Int64.self)) }
    }

    /// The run of the conversation's latest message that names one: its last run, once the run
    /// has ended (a running one is the conversation's `active_run_id`).
    func lastRunID(conversationID: String) async throws -> String? {
        try await session.query(
            """
            SELECT run_id FROM control.messages
            WHERE tenant_id = $1 AND conversation_id = $2 AND run_id <> '' ORDER BY seq DESC LIMIT 1
            """, tenant, conversationID
        ).first.map { try $0.decode("run_id") }
    }

    static func conversation(_ row: PostgresRow) throws -> Agentplane_V1_Conversation {
        var conversation = Agentplane_V1_Conversation()
        conversation.id = try row.decode("id")
        conversation.agentID = try row.decode("agent_id")
        conversation.agentVersion = Int32(try row.decode("agent_version", as: Int.self))
        conversation.title = try row.decode("title")
        conversation.status = Agentplane_V1_ConversationStatus(rawValue: Int32(try row.decode("status", as: Int.self)))
        conversation.activeRunID = try row.decode("active_run_id")
        let interrupt = try row.decode("pending_interrupt", as: [UInt8].self)
        if !interrupt.isEmpty {
            conversation.pendingInterrupt = try Agentplane_V1_Interrupt(serializedBytes: interrupt)
        }
        conversation.createdBy = try row.decode("created_by")
        conversation.metadata = RowDecoding.decodeJSON(row["metadata"], as: [String: String].self, default: [:])
        conversation.createdAt = try RowDecoding.timestamp(row, "created_at")
        conversation.updatedAt = try RowDecoding.timestamp(row, "updated_at")
        conversation.lastMessageAt = try RowDecoding.timestamp(row, "last_message_at")
        return conversation
    }

    static func message(_ row: PostgresRow) throws -> Agentplane_V1_Message {
        var message = Agentplane_V1_Message()
        message.id = try row.decode("id")
        message.conversationID = try row.decode("conversation_id")
        message.role = Agentplane_V1_MessageRole(rawValue: Int32(try row.decode("role", as: Int.self)))
        message.content = try row.decode("content")
        message.runID = try row.decode("run_id")
        message.authorID = try row.decode("author_id")
        message.metadata = RowDecoding.decodeJSON(row["metadata"], as: [String: String].self, default: [:])
        message.createdAt = try RowDecoding.timestamp(row, "created_at")
        return message
    }

    static func vanished(_ id: String) -> PostgresError {
        PostgresError(code: .server, message: "row \(id) not readable after writing it")
    }
}
