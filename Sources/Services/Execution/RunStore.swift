import FlowEngine
import Foundation
import RPCCore
import RuntimePostgres

/// Runs' metadata in `execution.runs`, every query in a transaction bound to the run's tenant
/// (row-level security) and filtered by tenant as well.
struct RunStore: Sendable {
    let pool: PostgresPool

    /// Inserts a new run unless the tenant is at its concurrent-run limit (RESOURCE_EXHAUSTED) or
    /// the conversation already has an active run (ABORTED).
    func insert(_ run: RunRecord, maxConcurrent: Int) async throws {
        do {
            try await pool.transaction(tenant: run.tenantID) { session in
                // Both checks in one statement: whether the conversation has a run in progress, and
                // how many the tenant has.
                let checks = try await session.query(
                    """
                    SELECT EXISTS (
                        SELECT 1 FROM execution.runs WHERE tenant_id = $1 AND conversation_id = $2 AND $2 <> ''
                          AND status IN ('pending', 'running', 'waiting_for_input')) AS busy,
                      (SELECT count(*) FROM execution.runs
                        WHERE tenant_id = $1 AND status IN ('pending', 'running')) AS n
                    """, run.tenantID, run.conversationID)
                if try checks.first?.decode("busy", as: Bool.self) == true {
                    throw Self.conversationBusy(run.conversationID)
                }
                if let count = try checks.first?.decode("n", as: Int.self), count >= maxConcurrent {
                    throw RPCError(
                        code: .resourceExhausted,
                        message: "the tenant already has \(count) runs in progress (limit \(maxConcurrent))")
                }
                // A run id the control plane chose may (by a retry of its call) be taken already.
                let inserted = try await session.queryCommitting(
                    """
                    INSERT INTO execution.runs (id, tenant_id, agent_id, agent_version, conversation_id,
                        input_message_id, status, started_by, flow_json, input, inputs_json, max_steps, timeout_ms,
                        omit_state_updates, replayed_from_run_id, replayed_from_checkpoint_id, max_state_bytes,
                        max_node_output_bytes, max_event_bytes)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
                    ON CONFLICT (id) DO NOTHING RETURNING 1 AS inserted
                    """,
                    [
                        run.id, run.tenantID, run.agentID, Int(run.agentVersion), run.conversationID,
                        run.inputMessageID, run.status.rawValue, run.startedBy, run.flowJSON, run.input,
                        run.inputsJSON, run.maxSteps, run.timeoutMilliseconds, run.omitStateUpdates,
                        run.replayedFromRunID, run.replayedFromCheckpointID, run.maxStateBytes,
                        run.maxNodeOutputBytes, run.maxEventBytes,
                    ])
                if inserted.isEmpty {
                    throw RPCError(code: .alreadyExists, message: "run \(run.id) exists already")
                }
            }
        } catch let error as PostgresError where error.code == .uniqueViolation {
            throw Self.conversationBusy(run.conversationID)
        }
    }

    private static func conversationBusy(_ conversationID: String) -> RPCError {
        RPCError(
            code: .aborted,
            message: "conversation \(conversationID) already has an active run; wait for it or cancel it")
    }

    /// The run, if it exists in `tenant` (and, for `owner`, was started by them).
    func run(id: String, tenant: String, owner: String? = nil) async throws -> RunRecord? {
        try await pool.transaction(tenant: tenant) { session in
            let rows = try await session.query(
                """
                SELECT \(RunRecord.columns) FROM execution.runs
                WHERE tenant_id = $1 AND id = $2 AND ($3 = '' OR started_by = $3)
                """,
                tenant, id, owner ?? "")
            return try rows.first.map(RunRecord.init(row:))
        }
    }

    /// A page of runs, newest first, after `cursor` (created ms, id).
    func list(
        tenant: String, owner: String?, agentID: String, conversationID: String, status: RunState?,
        createdFrom: Int64? = nil, createdBefore: Int64? = nil, after cursor: (Int64, String)?, limit: Int
    ) async throws -> [RunRecord] {
        try await pool.transaction(tenant: tenant) { session in
            // Creation times compare at the millisecond runs are shown with (`created_ms`, which
            // the page cursor uses too): [createdFrom, createdBefore), in ms since the epoch.
            let rows = try await session.query(
                """
                SELECT \(RunRecord.columns) FROM execution.runs
                WHERE tenant_id = $1 AND ($2 = '' OR started_by = $2) AND ($3 = '' OR agent_id = $3)
                  AND ($4 = '' OR conversation_id = $4) AND ($5 = '' OR status = $5)
                  AND ($6 = '' OR (floor(extract(epoch from created_at) * 1000)::bigint, id) < ($6::bigint, $7))
                  AND ($9::bigint IS NULL OR floor(extract(epoch from created_at) * 1000)::bigint >= $9::bigint)
                  AND ($10::bigint IS NULL OR floor(extract(epoch from created_at) * 1000)::bigint < $10::bigint)
                ORDER BY created_at DESC, id DESC LIMIT $8
                """,
                [
                    tenant, owner ?? "", agentID, conversationID, status?.rawValue ?? "",
                    cursor.map { String($0.0) } ?? "", cursor?.1 ?? "", limit, createdFrom, createdBefore,
                ])
            return try rows.map(RunRecord.init(row:))
        }
    }

    /// Applies `change` to the stored run (a no-op for a run that already ended unless `force`).
    func update(_ id: String, tenant: String, _ change: RunChange) async throws {
        var assignments: [String] = ["updated_at = now()"]
        var parameters: [(any PostgresEncodable)?] = [tenant, id]
        func set(_ column: String, _ value: any PostgresEncodable) {
            parameters.append(value)
            assignments.append("\(column) = $\(parameters.count)")
        }
        if let status = change.status {
            set("status", status.rawValue)
            if status.isTerminal { assignments.append("finished_at = now()") }
        }
        if let sequence = change.lastSequence {
            parameters.append(sequence)
            assignments.append("last_sequence = GREATEST(last_sequence, $\(parameters.count))")
        }
        if let steps = change.stepCount { set("step_count", steps) }
        if let node = change.currentNodeID { set("current_node_id", node) }
        if let interrupt = change.pendingInterruptJSON { set("pending_interrupt_json", interrupt) }
        if let answer = change.answer { set("answer", answer) }
        if let messageID = change.messageID { set("message_id", messageID) }
        if let error = change.error {
            set("error_code", error.code)
            set("error_message", error.message)
            set("error_node_id", error.nodeID)
            set("error_retryable", error.retryable)
        }
        if let usage = change.usage {
            set("prompt_tokens", Int64(usage.promptTokens))
            set("completion_tokens", Int64(usage.completionTokens))
        }
        let guardEnded = change.force ? "" : " AND status NOT IN ('succeeded', 'failed', 'cancelled')"
        let sql =
            "UPDATE execution.runs SET \(assignments.joined(separator: ", "))"
            + " WHERE tenant_id = $1 AND id = $2\(guardEnded)"
        try await pool.transaction(tenant: tenant) { session in
            _ = try await session.queryCommitting(sql, parameters)
        }
    }
}

/// Columns to change on a run; nil leaves one as it is.
struct RunChange: Sendable {
    var status: RunState?
    var lastSequence: Int64?
    var stepCount: Int?
    var currentNodeID: String?
    var pendingInterruptJSON: String?
    var answer: String?
    var messageID: String?
    var error: FlowRunError?
    var usage: FlowUsage?
    var force = false
}
