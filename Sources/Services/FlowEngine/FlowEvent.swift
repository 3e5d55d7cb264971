/// A pending request for human input raised by a `human_input` node.
public struct FlowInterrupt: Sendable, Hashable, Codable {
    /// Unique per pause: `<run_id>:<step>:<node_id>`; Resume must name it.
    public let interruptID: String
    /// The node that raised it.
    public let nodeID: String
    /// The rendered question shown to the person.
    public let prompt: String
    /// When non-empty, the answer's text must be one of these.
    public let choices: [String]
}

/// A person's answer to a `FlowInterrupt`.
public struct HumanInput: Sendable, Hashable, Codable {
    /// The interrupt being answered.
    public var interruptID: String
    /// The free-text answer or the chosen choice.
    public var text: String
    /// A structured answer; written instead of `text` when the output channel is not a string channel.
    public var data: JSONValue?

    /// Creates an answer.
    public init(interruptID: String, text: String, data: JSONValue? = nil) {
        self.interruptID = interruptID
        self.text = text
        self.data = data
    }
}

/// Why a run failed.
public struct FlowRunError: Error, Sendable, Hashable, Codable {
    /// Stable code: TOOL_FAILED, LLM_FAILED, LLM_UNAVAILABLE, NODE_TIMEOUT, TIMEOUT, MAX_STEPS_EXCEEDED,
    /// STATE_TOO_LARGE, NODE_OUTPUT_TOO_LARGE, TEMPLATE_TOO_LARGE, TYPE_MISMATCH, NO_ROUTE, CHECKPOINT_FAILED,
    /// INTERNAL.
    public let code: String
    /// What happened, without secrets.
    public let message: String
    /// The failing node; empty when the failure is not tied to one.
    public let nodeID: String
    /// True when running the same input again may succeed.
    public let retryable: Bool

    /// Creates an error.
    public init(code: String, message: String, nodeID: String = "", retryable: Bool = false) {
        self.code = code
        self.message = message
        self.nodeID = nodeID
        self.retryable = retryable
    }
}

/// Token counts of the run's model calls.
public struct FlowUsage: Sendable, Hashable, Codable {
    /// Prompt tokens.
    public var promptTokens: Int = 0
    /// Completion tokens.
    public var completionTokens: Int = 0

    /// Creates a usage count.
    public init(promptTokens: Int = 0, completionTokens: Int = 0) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }
}

/// One event of a run. Sequence numbers start at 1 and grow by 1 across pauses and resumes.
public struct FlowEvent: Sendable {
    /// What happened (mirrors the contract's ExecutionEvent payloads one to one).
    public enum Payload: Sendable {
        /// The run began (or a replay began from `replayedFrom`: run id and checkpoint id).
        case runStarted(replayedFromRunID: String?, replayedFromCheckpointID: String?)
        /// A paused run continued with an answer.
        case runResumed(interruptID: String)
        /// A node began; `step` is the 1-based super-step.
        case nodeStarted(nodeID: String, kind: String, step: Int)
        /// A node completed: the channels it wrote, and the checkpoint that holds them.
        case nodeFinished(
            nodeID: String, step: Int, update: [String: JSONValue], checkpointID: String?, elapsed: Duration)
        /// A piece of an `llm` node's answer.
        case answerDelta(nodeID: String, text: String)
        /// A `tool` node called a tool; `callID` is the idempotency key.
        case toolCall(callID: String, nodeID: String, tool: String, arguments: JSONValue)
        /// The outcome of a tool call (`replayed`: a stored result of an earlier attempt was used).
        case toolResult(
            callID: String, nodeID: String, tool: String, result: JSONValue?, errorMessage: String?,
            replayed: Bool, elapsed: Duration)
        /// The run paused for human input.
        case interrupt(FlowInterrupt)
        /// The run completed with an answer.
        case runFinished(answer: String, state: [String: JSONValue], usage: FlowUsage, elapsed: Duration)
        /// The run failed.
        case runFailed(FlowRunError)
        /// The run was cancelled.
        case runCancelled
    }

    /// The run.
    public let runID: String
    /// Position in the run's event stream.
    public let sequence: Int64
    /// What happened.
    public let payload: Payload

    /// An event (the runner makes them; the execution service merges answer deltas).
    public init(runID: String, sequence: Int64, payload: Payload) {
        self.runID = runID
        self.sequence = sequence
        self.payload = payload
    }
}

/// How a call to the runner ended.
public enum RunOutcome: Sendable {
    /// The run finished; `answer` is the `answer` channel.
    case finished(answer: String, state: [String: JSONValue])
    /// The run paused; resume it with an answer to one of these.
    case interrupted([FlowInterrupt])
    /// The run failed.
    case failed(FlowRunError)
    /// The task running it was cancelled.
    case cancelled
}
