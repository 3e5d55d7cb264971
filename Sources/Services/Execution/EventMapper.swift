import FlowEngine
import FlowEngineProto
import Foundation
import RPCModels
import Saturating

/// Turns engine events into the contract's `ExecutionEvent`s.
struct EventMapper: Sendable {
    /// The run's agent, version and conversation, repeated in `run_started`.
    var agentID: String
    var agentVersion: Int32
    var conversationID: String
    /// Who resumed the run, for `run_resumed`.
    var actingUser: String
    /// Drop `NodeFinished.state_update` (RunOptions.omit_state_updates).
    var omitStateUpdates: Bool
    /// The run's resolved tools by name and by id (a flow names its tools either way), for the
    /// kind a `ToolCall` reports.
    var tools: [String: Agentplane_V1_Tool] = [:]

    /// The contract's event for an engine event.
    func event(_ event: FlowEvent, now: Date = Date()) -> Agentplane_V1_ExecutionEvent {
        var out = Agentplane_V1_ExecutionEvent()
        out.runID = event.runID
        out.sequence = event.sequence
        out.emittedAt = Google_Protobuf_Timestamp(date: now)
        switch event.payload {
        case .runStarted(let fromRun, let fromCheckpoint):
            var started = Agentplane_V1_RunStarted()
            started.agentID = agentID
            started.agentVersion = agentVersion
            started.conversationID = conversationID
            started.replayedFromRunID = fromRun ?? ""
            started.replayedFromCheckpointID = fromCheckpoint ?? ""
            out.payload = .runStarted(started)
        case .runResumed(let interruptID):
            var resumed = Agentplane_V1_RunResumed()
            resumed.interruptID = interruptID
            resumed.resumedBy = actingUser
            out.payload = .runResumed(resumed)
        case .nodeStarted(let nodeID, let kind, let step):
            var started = Agentplane_V1_NodeStarted()
            started.nodeID = nodeID
            started.nodeKind = kind
            started.step = Int32(clamping: step)
            out.payload = .nodeStarted(started)
        case .nodeFinished(let nodeID, let step, let update, let checkpointID, let elapsed):
            var finished = Agentplane_V1_NodeFinished()
            finished.nodeID = nodeID
            finished.step = Int32(clamping: step)
            if !omitStateUpdates { finished.stateUpdate = ProtoJSON.structure(update) }
            finished.checkpointID = checkpointID ?? ""
            finished.elapsed = Google_Protobuf_Duration(elapsed)
            out.payload = .nodeFinished(finished)
        case .answerDelta(let nodeID, let text):
            var delta = Agentplane_V1_AnswerDelta()
            delta.nodeID = nodeID
            delta.text = text
            out.payload = .answerDelta(delta)
        case .toolCall(let callID, let nodeID, let tool, let arguments):
            var call = Agentplane_V1_ToolCall()
            call.callID = callID
            call.nodeID = nodeID
            call.toolID = tool
            call.toolName = tool
            if let resolved = tools[tool] { call.toolKind = resolved.kind }
            call.arguments = ProtoJSON.structure(arguments)
            out.payload = .toolCall(call)
        case .toolResult(let callID, let nodeID, let tool, let result, let errorMessage, _, let elapsed):
            var outcome = Agentplane_V1_ToolResult()
            outcome.callID = callID
            outcome.nodeID = nodeID
            outcome.toolID = tool
            if let result { outcome.result = ProtoJSON.structure(result) }
            outcome.isError = errorMessage != nil
            outcome.errorMessage = errorMessage ?? ""
            outcome.elapsed = Google_Protobuf_Duration(elapsed)
            out.payload = .toolResult(outcome)
        case .interrupt(let interrupt):
            out.payload = .interrupt(Self.interrupt(interrupt, raisedAt: now))
        case .runFinished(let answer, let state, let usage, let elapsed):
            var finished = Agentplane_V1_RunFinished()
            finished.answer = answer
            finished.finalState = ProtoJSON.structure(state)
            finished.usage = Self.usage(usage)
            finished.elapsed = Google_Protobuf_Duration(elapsed)
            out.payload = .runFinished(finished)
        case .runFailed(let error):
            var failed = Agentplane_V1_RunFailed()
            failed.error = Self.error(error)
            out.payload = .runFailed(failed)
        case .runCancelled:
            out.payload = .runCancelled(Agentplane_V1_RunCancelled())
        }
        return out
    }

    /// The contract's interrupt.
    static func interrupt(_ interrupt: FlowInterrupt, raisedAt: Date?) -> Agentplane_V1_Interrupt {
        var out = Agentplane_V1_Interrupt()
        out.interruptID = interrupt.interruptID
        out.nodeID = interrupt.nodeID
        out.prompt = interrupt.prompt
        out.choices = interrupt.choices
        out.raisedAt = raisedAt.map { Google_Protobuf_Timestamp(date: $0) }
        return out
    }

    /// The contract's token usage.
    static func usage(_ usage: FlowUsage) -> Agentplane_V1_TokenUsage {
        var out = Agentplane_V1_TokenUsage()
        out.promptTokens = Int64(usage.promptTokens)
        out.completionTokens = Int64(usage.completionTokens)
        out.totalTokens = Int64(Saturating.add(usage.promptTokens, usage.completionTokens))
        return out
    }

    /// The contract's run error.
    static func error(_ error: FlowRunError) -> Agentplane_V1_RunError {
        var out = Agentplane_V1_RunError()
        out.code = error.code
        out.message = error.message
        out.nodeID = error.nodeID
        out.retryable = error.retryable
        return out
    }
}

extension Agentplane_V1_ExecutionEvent {
    /// Whether the run's stream ends with this event (terminal, or paused on an interrupt).
    var endsStream: Bool {
        switch payload {
        case .runFinished, .runFailed, .runCancelled, .interrupt: true
        default: false
        }
    }
}

extension Agentplane_V1_RunFinished {
    /// Names the assistant message the answer was saved as; with its time too when the saved text
    /// is this answer (a resumed run may find an earlier answer saved under its key), so the
    /// control plane can relay the message without reading it back.
    mutating func record(saved: Agentplane_V1_Message?) {
        guard let saved else { return }
        messageID = saved.id
        if saved.content == answer, let created = saved.createdAt { messageCreatedAt = created }
    }
}
