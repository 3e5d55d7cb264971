import FlowEngine
import FlowEngineProto
import Foundation
import RPCModels
import RuntimePostgres

/// Where a run stands, as stored in `execution.runs.status`.
enum RunState: String, Sendable {
    case pending
    case running
    case waitingForInput = "waiting_for_input"
    case succeeded
    case failed
    case cancelled

    /// The contract's status.
    var proto: Agentplane_V1_RunStatus {
        switch self {
        case .pending: .pending
        case .running: .running
        case .waitingForInput: .waitingForInput
        case .succeeded: .succeeded
        case .failed: .failed
        case .cancelled: .cancelled
        }
    }

    /// The stored status for a filter (nil: no filter).
    init?(_ proto: Agentplane_V1_RunStatus) {
        switch proto {
        case .pending: self = .pending
        case .running: self = .running
        case .waitingForInput: self = .waitingForInput
        case .succeeded: self = .succeeded
        case .failed: self = .failed
        case .cancelled: self = .cancelled
        default: return nil
        }
    }

    /// Whether the run has ended.
    var isTerminal: Bool { self == .succeeded || self == .failed || self == .cancelled }
}

/// One row of `execution.runs`: a run's metadata and what any replica needs to continue it.
struct RunRecord: Sendable {
    var id: String
    var tenantID: String
    var agentID = ""
    var agentVersion: Int32 = 0
    var conversationID = ""
    var inputMessageID = ""
    var status: RunState = .running
    var startedBy = ""
    var flowJSON = ""
    var input = ""
    var inputsJSON = "{}"
    var maxSteps = 0
    var timeoutMilliseconds: Int64 = 0
    /// Size limits (`RunCaps`); 0: the platform's.
    var maxStateBytes = 0
    var maxNodeOutputBytes = 0
    var maxEventBytes = 0
    var omitStateUpdates = false
    var lastSequence: Int64 = 0
    var stepCount = 0
    var currentNodeID = ""
    var pendingInterruptJSON = ""
    var answer = ""
    var messageID = ""
    var errorCode = ""
    var errorMessage = ""
    var errorNodeID = ""
    var errorRetryable = false
    var promptTokens: Int64 = 0
    var completionTokens: Int64 = 0
    var replayedFromRunID = ""
    var replayedFromCheckpointID = ""
    var createdAtMilliseconds: Int64 = 0
    var updatedAtMilliseconds: Int64 = 0
    var finishedAtMilliseconds: Int64?

    init(id: String, tenantID: String) {
        self.id = id
        self.tenantID = tenantID
    }

    /// The columns read back, with timestamps as epoch milliseconds.
    static let columns = """
        id, tenant_id, agent_id, agent_version, conversation_id, input_message_id, status, started_by, flow_json,
        input, inputs_json, max_steps, timeout_ms, max_state_bytes, max_node_output_bytes, max_event_bytes,
        omit_state_updates, last_sequence, step_count, current_node_id,
        pending_interrupt_json, answer, message_id, error_code, error_message, error_node_id, error_retryable,
        prompt_tokens, completion_tokens, replayed_from_run_id, replayed_from_checkpoint_id,
        floor(extract(epoch from created_at) * 1000)::bigint AS created_ms,
        floor(extract(epoch from updated_at) * 1000)::bigint AS updated_ms,
        floor(extract(epoch from finished_at) * 1000)::bigint AS finished_ms
        """

    init(row: PostgresRow) throws {
        id = try row.decode("id")
        tenantID = try row.decode("tenant_id")
        agentID = try row.decode("agent_id")
        agentVersion = Int32(try row.decode("agent_version", as: Int.self))
        conversationID = try row.decode("conversation_id")
        inputMessageID = try row.decode("input_message_id")
        status = RunState(rawValue: try row.decode("status")) ?? .failed
        startedBy = try row.decode("started_by")
        flowJSON = try row.decode("flow_json")
        input = try row.decode("input")
        inputsJSON = try row.decode("inputs_json")
        maxSteps = try row.decode("max_steps")
        timeoutMilliseconds = try row.decode("timeout_ms")
        maxStateBytes = try row.decode("max_state_bytes")
        maxNodeOutputBytes = try row.decode("max_node_output_bytes")
        maxEventBytes = try row.decode("max_event_bytes")
        omitStateUpdates = try row.decode("omit_state_updates")
        lastSequence = try row.decode("last_sequence")
        stepCount = try row.decode("step_count")
        currentNodeID = try row.decode("current_node_id")
        pendingInterruptJSON = try row.decode("pending_interrupt_json")
        answer = try row.decode("answer")
        messageID = try row.decode("message_id")
        errorCode = try row.decode("error_code")
        errorMessage = try row.decode("error_message")
        errorNodeID = try row.decode("error_node_id")
        errorRetryable = try row.decode("error_retryable")
        promptTokens = try row.decode("prompt_tokens")
        completionTokens = try row.decode("completion_tokens")
        replayedFromRunID = try row.decode("replayed_from_run_id")
        replayedFromCheckpointID = try row.decode("replayed_from_checkpoint_id")
        createdAtMilliseconds = try row.decode("created_ms")
        updatedAtMilliseconds = try row.decode("updated_ms")
        finishedAtMilliseconds = row["finished_ms"].flatMap { Int64($0) }
    }

    /// The interrupt the run waits on.
    var pendingInterrupt: FlowInterrupt? {
        guard !pendingInterruptJSON.isEmpty else { return nil }
        return try? JSONDecoder().decode(FlowInterrupt.self, from: Data(pendingInterruptJSON.utf8))
    }

    /// The contract's view of the run.
    func proto(state: [String: JSONValue]? = nil) -> Agentplane_V1_Run {
        var run = Agentplane_V1_Run()
        run.id = id
        run.agentID = agentID
        run.agentVersion = agentVersion
        run.conversationID = conversationID
        run.status = status.proto
        run.startedBy = startedBy
        run.lastSequence = lastSequence
        run.stepCount = Int32(clamping: stepCount)
        run.currentNodeID = status == .running ? currentNodeID : ""
        if status == .waitingForInput, let interrupt = pendingInterrupt {
            run.pendingInterrupt = EventMapper.interrupt(interrupt, raisedAt: nil)
        }
        run.answer = answer
        if status == .failed {
            var error = Agentplane_V1_RunError()
            error.code = errorCode
            error.message = errorMessage
            error.nodeID = errorNodeID
            error.retryable = errorRetryable
            run.error = error
        }
        run.usage = EventMapper.usage(
            FlowUsage(promptTokens: Int(promptTokens), completionTokens: Int(completionTokens)))
        run.state = state.map { ProtoJSON.structure($0) }
        run.replayedFromRunID = replayedFromRunID
        run.replayedFromCheckpointID = replayedFromCheckpointID
        run.createdAt = Self.timestamp(createdAtMilliseconds)
        run.updatedAt = Self.timestamp(updatedAtMilliseconds)
        run.finishedAt = finishedAtMilliseconds.map(Self.timestamp)
        return run
    }

    /// The instant `milliseconds` after the epoch, exactly (not through a Double, which shows
    /// 0.142 s as 141999960 ns).
    static func timestamp(_ milliseconds: Int64) -> Google_Protobuf_Timestamp {
        let (seconds, remainder) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        return remainder < 0
            ? Google_Protobuf_Timestamp(seconds: seconds - 1, nanos: Int32(remainder + 1000) * 1_000_000)
            : Google_Protobuf_Timestamp(seconds: seconds, nanos: Int32(remainder) * 1_000_000)
    }
}
