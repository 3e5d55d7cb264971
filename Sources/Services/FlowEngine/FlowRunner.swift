/// Limits of one run.
public struct RunLimits: Sendable, Hashable {
    /// The most node executions (the recursion limit that stops runaway loops).
    public var maxSteps: Int
    /// The longest running time, excluding pauses for input; nil: none.
    public var timeout: Duration?
    /// The largest state, as compact JSON (`JSONValue.encodedSize`); a step that makes it larger
    /// fails the run with `STATE_TOO_LARGE` before its checkpoint is saved. nil: no limit.
    public var maxStateBytes: Int?
    /// The largest output of one node (the values it writes, a tool's result), as compact JSON;
    /// larger fails the run with `NODE_OUTPUT_TOO_LARGE` before anything of it is recorded.
    /// nil: no limit.
    public var maxNodeOutputBytes: Int?

    /// Creates limits: 1000 node executions, no deadline and no size limits by default.
    public init(
        maxSteps: Int = 1000, timeout: Duration? = nil, maxStateBytes: Int? = nil, maxNodeOutputBytes: Int? = nil
    ) {
        self.maxSteps = maxSteps
        self.timeout = timeout
        self.maxStateBytes = maxStateBytes
        self.maxNodeOutputBytes = maxNodeOutputBytes
    }
}

/// Why a run cannot be resumed as asked.
public enum ResumeError: Error, Sendable, Hashable {
    /// The run has no checkpoint.
    case noCheckpoint
    /// The run is not waiting for input (an answer was given) or is finished.
    case notWaiting
    /// The answer names an interrupt that is not pending.
    case staleInterrupt
    /// The answer is not one of the interrupt's choices.
    case invalidChoice([String])
    /// The run waits for input and no answer was given.
    case inputRequired
}

/// Runs compiled flows in super-steps with checkpoints, interrupts, retries and events.
///
/// Events go to `onEvent`, called synchronously in sequence order (from whichever task produced the
/// event; keep it cheap — e.g. yield into an `AsyncStream`).
public struct FlowRunner: Sendable {
    /// The flow it runs.
    public let flow: CompiledFlow
    let model: any ModelClient
    let tools: any ToolClient
    let checkpointer: (any Checkpointer)?
    let limits: RunLimits
    let onEvent: (@Sendable (FlowEvent) -> Void)?
    let sleep: Sleep

    /// How the engine waits (a run's time limit, a node's timeout, a retry's backoff): throws
    /// `CancellationError` when the waiting task is cancelled. A host can put the waits on its
    /// own timers; `Task.sleep` by default.
    public typealias Sleep = @Sendable (Duration) async throws -> Void

    /// Creates a runner; `checkpointer` nil runs without durability (fastest).
    public init(
        flow: CompiledFlow, model: any ModelClient, tools: any ToolClient, checkpointer: (any Checkpointer)? = nil,
        limits: RunLimits = RunLimits(), onEvent: (@Sendable (FlowEvent) -> Void)? = nil,
        sleep: @escaping Sleep = { try await Task.sleep(for: $0) }
    ) {
        self.flow = flow
        self.model = model
        self.tools = tools
        self.checkpointer = checkpointer
        self.limits = limits
        self.onEvent = onEvent
        self.sleep = sleep
    }

    /// Starts a new run with the user's `input` and extra initial `inputs` (top-level state keys).
    public func start(runID: String, input: String, inputs: [String: JSONValue] = [:]) async -> RunOutcome {
        let run = RunLoop(runner: self, runID: runID, sequence: 0)
        run.emit(.runStarted(replayedFromRunID: nil, replayedFromCheckpointID: nil))
        if let problem = flow.check(inputs: inputs).first {
            let outcome = RunOutcome.failed(FlowRunError(code: "TYPE_MISMATCH", message: problem.message))
            run.conclude(outcome, elapsed: .zero)
            return outcome
        }
        let state = flow.initialState(input: input, inputs: inputs)
        return await run.drive(
            RunLoop.Position(state: state, next: [flow.entry], step: 0, nodeExecutions: 0, activeSeconds: 0))
    }

    /// Continues a run from its latest checkpoint: after a pause, with the person's `input`; after a
    /// crash or cancellation (no interrupt pending), with `input` nil. Steps already checkpointed and
    /// tool calls already completed are not repeated.
    public func resume(runID: String, input: HumanInput? = nil) async throws -> RunOutcome {
        guard let checkpoint = try await checkpointer?.latest(runID: runID) else { throw ResumeError.noCheckpoint }
        return try await resume(from: checkpoint, input: input)
    }

    /// Continues a run from `checkpoint` (see `resume(runID:input:)`).
    public func resume(from checkpoint: FlowCheckpoint, input: HumanInput? = nil) async throws -> RunOutcome {
        guard !checkpoint.next.isEmpty else { throw ResumeError.notWaiting }
        var answers: [String: HumanInput] = [:]
        if let input {
            guard !checkpoint.interrupts.isEmpty else { throw ResumeError.notWaiting }
            guard let pending = checkpoint.interrupts.first(where: { $0.interruptID == input.interruptID }) else {
                throw ResumeError.staleInterrupt
            }
            if !pending.choices.isEmpty, !pending.choices.contains(input.text) {
                throw ResumeError.invalidChoice(pending.choices)
            }
            answers[pending.nodeID] = input
        } else if !checkpoint.interrupts.isEmpty {
            throw ResumeError.inputRequired
        }
        let run = RunLoop(
            runner: self, runID: checkpoint.runID, sequence: checkpoint.sequence, usage: checkpoint.usage,
            sideEffects: checkpoint.completedSideEffects)
        if let input { run.emit(.runResumed(interruptID: input.interruptID)) }
        return await run.drive(
            RunLoop.Position(
                state: checkpoint.state, next: checkpoint.next.compactMap { flow.indexByID[$0] },
                deferred: checkpoint.deferred.compactMap { flow.indexByID[$0] },
                arrived: flow.indices(checkpoint.waiting), step: checkpoint.step,
                nodeExecutions: checkpoint.nodeExecutions, activeSeconds: checkpoint.activeSeconds, answers: answers))
    }

    /// Starts a NEW run `runID` from `checkpoint` of an earlier run, with top-level state keys replaced by
    /// `statePatch`; the earlier run is untouched and its tool calls are made again under new keys.
    public func replay(
        runID: String, from checkpoint: FlowCheckpoint, statePatch: [String: JSONValue] = [:]
    ) async -> RunOutcome {
        let run = RunLoop(runner: self, runID: runID, sequence: 0)
        run.emit(.runStarted(replayedFromRunID: checkpoint.runID, replayedFromCheckpointID: checkpoint.id))
        var state = checkpoint.state
        for (key, value) in statePatch { state[key] = value }
        return await run.drive(
            RunLoop.Position(
                state: state, next: checkpoint.next.compactMap { flow.indexByID[$0] },
                deferred: checkpoint.deferred.compactMap { flow.indexByID[$0] },
                arrived: flow.indices(checkpoint.waiting), step: checkpoint.step,
                nodeExecutions: checkpoint.nodeExecutions, activeSeconds: 0))
    }
}
