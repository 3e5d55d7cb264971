import Foundation
import RPCModels

// The `--json` shape of each message the commands print: the proto field names in
// snake_case, enums as lower-case names, timestamps as RFC 3339, durations as milliseconds.

extension Google_Protobuf_Struct {
    /// The struct as a JSON object, keys sorted.
    var json: JSONValue {
        .object(fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value.json) })
    }
}

extension Google_Protobuf_Value {
    /// The value as JSON.
    var json: JSONValue {
        switch kind {
        case .none, .nullValue: .null
        case .numberValue(let value): .number(value)
        case .stringValue(let value): .string(value)
        case .boolValue(let value): .bool(value)
        case .structValue(let value): value.json
        case .listValue(let value): .array(value.values.map(\.json))
        }
    }
}

extension Agentplane_V1_Role {
    /// `owner`, `admin`, ...
    var name: String {
        switch self {
        case .owner: "owner"
        case .admin: "admin"
        case .builder: "builder"
        case .member: "member"
        case .service: "service"
        default: "unspecified"
        }
    }
}

extension Agentplane_V1_ToolKind {
    /// The kinds by their command-line names.
    static let byName: [String: Agentplane_V1_ToolKind] = [
        "kb_search": .kbSearch, "ticketing": .ticketing, "notification": .notification, "llm": .llm, "http": .http,
    ]

    /// `kb_search`, `ticketing`, ...
    var name: String {
        Self.byName.first { $0.value == self }?.key ?? "unspecified"
    }
}

extension Agentplane_V1_DocumentStatus {
    /// `processing`, `ready`, ...
    var name: String {
        switch self {
        case .processing: "processing"
        case .ready: "ready"
        case .failed: "failed"
        case .notIndexed: "not_indexed"
        default: "unspecified"
        }
    }
}

extension Agentplane_V1_ConversationStatus {
    /// `idle`, `running`, `waiting_for_input`.
    var name: String {
        switch self {
        case .idle: "idle"
        case .running: "running"
        case .waitingForInput: "waiting_for_input"
        default: "unspecified"
        }
    }
}

extension Agentplane_V1_MessageRole {
    /// `user`, `assistant`, ...
    var name: String {
        switch self {
        case .system: "system"
        case .user: "user"
        case .assistant: "assistant"
        case .tool: "tool"
        default: "unspecified"
        }
    }
}

extension Agentplane_V1_TicketStatus {
    /// `open`, `pending`, ...
    var name: String {
        switch self {
        case .open: "open"
        case .pending: "pending"
        case .resolved: "resolved"
        case .closed: "closed"
        default: "unspecified"
        }
    }
}

extension Agentplane_V1_TicketPriority {
    /// `low`, `normal`, ...
    var name: String {
        switch self {
        case .low: "low"
        case .normal: "normal"
        case .high: "high"
        case .urgent: "urgent"
        default: "unspecified"
        }
    }
}

extension Agentplane_V1_DeliveryStatus {
    /// `pending`, `delivered`, `failed`.
    var name: String {
        switch self {
        case .pending: "pending"
        case .delivered: "delivered"
        case .failed: "failed"
        default: "unspecified"
        }
    }
}

extension Agentplane_V1_ChannelKind {
    /// `slack`, `teams`, `webhook`, `log`.
    var name: String {
        switch self {
        case .slack: "slack"
        case .teams: "teams"
        case .webhook: "webhook"
        case .log: "log"
        default: "unspecified"
        }
    }
}

extension Agentplane_V1_NotificationSeverity {
    /// `info`, `warning`, `critical`.
    var name: String {
        switch self {
        case .info: "info"
        case .warning: "warning"
        case .critical: "critical"
        default: "unspecified"
        }
    }
}

extension Agentplane_V1_FieldViolation {
    /// `{field, code, explanation}`.
    var json: JSONValue {
        .object([("field", .string(field)), ("code", .string(code)), ("explanation", .string(explanation))])
    }
}

extension Agentplane_V1_User {
    /// The user, as JSON.
    var json: JSONValue {
        var object = JSONObject()
        object.set("id", id)
        object.set("email", email)
        object.set("display_name", displayName)
        object.set("roles", roles.map(\.name))
        object.set("created_at", createdAt)
        object.set("last_login_at", lastLoginAt)
        return object.value
    }
}

extension Agentplane_V1_Tenant {
    /// The tenant, without its settings.
    var json: JSONValue {
        var object = JSONObject()
        object.set("id", id)
        object.set("slug", slug)
        object.set("display_name", displayName)
        object.set("created_at", createdAt)
        return object.value
    }
}

extension Agentplane_V1_Agent {
    /// The agent version; `flow` holds the parsed flow when it is included and valid JSON.
    var json: JSONValue {
        var object = JSONObject()
        object.set("id", id)
        object.set("name", name)
        object.set("description", description)
        object.set("version", version)
        object.set("latest_version", latestVersion)
        object.set("tags", tags)
        object.set("metadata", metadata)
        object.set("author_id", authorID)
        object.set("change_message", changeMessage)
        if restoredFromVersion != 0 { object.set("restored_from_version", restoredFromVersion) }
        object.set("created_by", createdBy)
        object.set("created_at", createdAt)
        object.set("updated_at", updatedAt)
        if !flowJSON.isEmpty { object.set("flow_json", flowJSON) }
        return object.value
    }
}

extension Agentplane_V1_AgentVersion {
    /// The version entry.
    var json: JSONValue {
        var object = JSONObject()
        object.set("version", version)
        object.set("author_id", authorID)
        object.set("change_message", changeMessage)
        if restoredFromVersion != 0 { object.set("restored_from_version", restoredFromVersion) }
        object.set("created_at", createdAt)
        return object.value
    }
}

extension Agentplane_V1_Tool {
    /// The tool (secret names only, never values).
    var json: JSONValue {
        var object = JSONObject()
        object.set("id", id)
        object.set("name", name)
        object.set("kind", kind.name)
        object.set("description", description)
        object.set("config", config?.json ?? .object([]))
        object.set("secret_names", secretNames)
        if let inputSchema { object.set("input_schema", inputSchema.json) }
        if timeout != nil { object.set("timeout_ms", milliseconds(timeout)) }
        object.set("enabled", enabled)
        object.set("revision", revision)
        object.set("created_by", createdBy)
        object.set("created_at", createdAt)
        object.set("updated_at", updatedAt)
        return object.value
    }
}

extension Agentplane_V1_Document {
    /// The document's metadata.
    var json: JSONValue {
        var object = JSONObject()
        object.set("id", id)
        object.set("name", name)
        object.set("content_type", contentType)
        object.set("size_bytes", sizeBytes)
        object.set("sha256", sha256)
        object.set("tags", tags)
        object.set("status", status.name)
        if !statusMessage.isEmpty { object.set("status_message", statusMessage) }
        object.set("chunk_count", chunkCount)
        object.set("uploaded_by", uploadedBy)
        object.set("created_at", createdAt)
        object.set("indexed_at", indexedAt)
        return object.value
    }
}

extension Agentplane_V1_Conversation {
    /// The conversation.
    var json: JSONValue {
        var object = JSONObject()
        object.set("id", id)
        object.set("agent_id", agentID)
        object.set("agent_version", agentVersion)
        object.set("title", title)
        object.set("status", status.name)
        if !activeRunID.isEmpty { object.set("active_run_id", activeRunID) }
        if let pendingInterrupt { object.set("pending_interrupt", pendingInterrupt.json) }
        object.set("created_by", createdBy)
        object.set("metadata", metadata)
        object.set("created_at", createdAt)
        object.set("updated_at", updatedAt)
        object.set("last_message_at", lastMessageAt)
        return object.value
    }
}

extension Agentplane_V1_Message {
    /// The message.
    var json: JSONValue {
        var object = JSONObject()
        object.set("id", id)
        object.set("conversation_id", conversationID)
        object.set("role", role.name)
        object.set("content", content)
        object.set("run_id", runID)
        if !authorID.isEmpty { object.set("author_id", authorID) }
        if !metadata.isEmpty { object.set("metadata", metadata) }
        object.set("created_at", createdAt)
        return object.value
    }
}

extension Agentplane_V1_Interrupt {
    /// The pending question.
    var json: JSONValue {
        var object = JSONObject()
        object.set("interrupt_id", interruptID)
        object.set("node_id", nodeID)
        object.set("prompt", prompt)
        object.set("choices", choices)
        if let inputSchema { object.set("input_schema", inputSchema.json) }
        object.set("raised_at", raisedAt)
        return object.value
    }
}

extension Agentplane_V1_Ticket {
    /// The ticket (without comments, which lists do not carry).
    var json: JSONValue {
        var object = JSONObject()
        object.set("id", id)
        object.set("number", number)
        object.set("url", url)
        object.set("title", title)
        object.set("body", body)
        object.set("status", status.name)
        object.set("priority", priority.name)
        object.set("requester", requester)
        object.set("assignee", assignee)
        object.set("group_name", groupName)
        object.set("tags", tags)
        object.set("conversation_id", conversationID)
        object.set("run_id", runID)
        object.set("revision", revision)
        object.set("created_at", createdAt)
        object.set("updated_at", updatedAt)
        object.set("closed_at", closedAt)
        return object.value
    }
}

extension Agentplane_V1_Delivery {
    /// The delivery.
    var json: JSONValue {
        var object = JSONObject()
        object.set("id", id)
        object.set("channel", channel.name)
        object.set("target_display", targetDisplay)
        object.set("title", title)
        object.set("severity", severity.name)
        object.set("status", status.name)
        object.set("attempts", attempts)
        object.set("max_attempts", maxAttempts)
        object.set("last_error", lastError)
        object.set("last_response_code", lastResponseCode)
        object.set("idempotency_key", idempotencyKey)
        object.set("conversation_id", conversationID)
        object.set("run_id", runID)
        object.set("created_at", createdAt)
        object.set("last_attempt_at", lastAttemptAt)
        object.set("next_attempt_at", nextAttemptAt)
        object.set("delivered_at", deliveredAt)
        return object.value
    }
}

extension Agentplane_V1_ExecutionEvent {
    /// The event as one flat object: `type` names the payload, its fields follow.
    var json: JSONValue {
        var object = JSONObject()
        object.set("run_id", runID)
        object.set("sequence", sequence)
        object.set("emitted_at", emittedAt)
        switch payload {
        case .runStarted(let started):
            object.set("type", "run_started")
            object.set("agent_id", started.agentID)
            object.set("agent_version", started.agentVersion)
            object.set("conversation_id", started.conversationID)
        case .nodeStarted(let node):
            object.set("type", "node_started")
            object.set("node_id", node.nodeID)
            object.set("node_kind", node.nodeKind)
            object.set("step", node.step)
        case .nodeFinished(let node):
            object.set("type", "node_finished")
            object.set("node_id", node.nodeID)
            object.set("step", node.step)
            object.set("elapsed_ms", milliseconds(node.elapsed))
            object.set("checkpoint_id", node.checkpointID)
            if let update = node.stateUpdate { object.set("state_update", update.json) }
        case .answerDelta(let delta):
            object.set("type", "answer_delta")
            object.set("node_id", delta.nodeID)
            object.set("text", delta.text)
        case .toolCall(let call):
            object.set("type", "tool_call")
            object.set("call_id", call.callID)
            object.set("node_id", call.nodeID)
            object.set("tool_id", call.toolID)
            object.set("tool_name", call.toolName)
            object.set("tool_kind", call.toolKind.name)
            object.set("arguments", call.arguments?.json ?? .object([]))
        case .toolResult(let result):
            object.set("type", "tool_result")
            object.set("call_id", result.callID)
            object.set("node_id", result.nodeID)
            object.set("tool_id", result.toolID)
            object.set("is_error", result.isError)
            if result.isError { object.set("error_message", result.errorMessage) }
            object.set("result", result.result?.json ?? .object([]))
            object.set("elapsed_ms", milliseconds(result.elapsed))
        case .interrupt(let interrupt):
            object.set("type", "interrupt")
            object.set("interrupt", interrupt.json)
        case .runResumed(let resumed):
            object.set("type", "run_resumed")
            object.set("interrupt_id", resumed.interruptID)
            object.set("resumed_by", resumed.resumedBy)
        case .runFinished(let finished):
            object.set("type", "run_finished")
            object.set("answer", finished.answer)
            object.set("message_id", finished.messageID)
            object.set("elapsed_ms", milliseconds(finished.elapsed))
            if let usage = finished.usage {
                object.set(
                    "usage",
                    .object([
                        ("prompt_tokens", .integer(usage.promptTokens)),
                        ("completion_tokens", .integer(usage.completionTokens)),
                        ("total_tokens", .integer(usage.totalTokens)),
                    ]))
            }
        case .runFailed(let failed):
            object.set("type", "run_failed")
            object.set("code", failed.error?.code ?? "")
            object.set("message", failed.error?.message ?? "")
            object.set("node_id", failed.error?.nodeID ?? "")
            object.set("retryable", failed.error?.retryable ?? false)
        case .runCancelled(let cancelled):
            object.set("type", "run_cancelled")
            object.set("reason", cancelled.reason)
            object.set("cancelled_by", cancelled.cancelledBy)
        case .none:
            object.set("type", "unknown")
        }
        return object.value
    }
}
