import Foundation
import Saturating
import Synchronization

/// One execution of a run (from a start, resume or replay until it ends or pauses): the super-step loop.
final class RunLoop: Sendable {
    /// Where the loop starts.
    struct Position {
        var state: [String: JSONValue]
        var next: [Int]
        /// Successors of nodes that finished in a step that was interrupted; they run once the
        /// interrupted nodes have finished, so a join after a paused branch runs once.
        var deferred: [Int] = []
        /// For nodes with `wait_for`: the predecessors that finished since the node last ran.
        var arrived: [Int: [Int]] = [:]
        var step: Int
        var nodeExecutions: Int
        var activeSeconds: Double
        /// Answers for interrupted nodes, by node id.
        var answers: [String: HumanInput] = [:]
    }

    /// What one node produced.
    struct NodeResult: Sendable {
        var updates: [(String, JSONValue)] = []
        /// Successors chosen by the node itself (routers, end); nil: follow the node's edges.
        var route: [Int]?
        var interrupt: FlowInterrupt?
        var failure: FlowRunError?
        var cancelled = false
        var elapsed: Duration = .zero
    }

    let runner: FlowRunner
    let flow: CompiledFlow
    let runID: String
    let sequence: Mutex<Int64>
    let usage: Mutex<FlowUsage>
    /// Tool results completed before a crash in the step being re-run, by idempotency key.
    let sideEffects: [String: JSONValue]

    init(
        runner: FlowRunner, runID: String, sequence: Int64, usage: FlowUsage = FlowUsage(),
        sideEffects: [String: JSONValue] = [:]
    ) {
        self.runner = runner
        self.flow = runner.flow
        self.runID = runID
        self.sequence = Mutex(sequence)
        self.usage = Mutex(usage)
        self.sideEffects = sideEffects
    }

    /// Numbers and delivers an event; the payload is only built when someone listens.
    func emit(_ payload: @autoclosure () -> FlowEvent.Payload) {
        guard let handler = runner.onEvent else {
            sequence.withLock { $0 += 1 }
            return
        }
        // Delivering under the lock keeps the handler's calls in sequence order.
        sequence.withLock { sequence in
            sequence += 1
            handler(FlowEvent(runID: runID, sequence: sequence, payload: payload()))
        }
    }

    /// Runs the loop under the run's deadline and emits the terminal event.
    func drive(_ position: Position) async -> RunOutcome {
        let clock = ContinuousClock()
        let start = clock.now
        let outcome: RunOutcome
        let active = Self.duration(seconds: position.activeSeconds)
        if let timeout = runner.limits.timeout {
            // Sleeping "forever" traps in the clock's arithmetic: a century is the longest wait.
            let remaining = (timeout - active).clamped(to: .zero...Self.longestWait)
            let timedOut = RunOutcome.failed(
                FlowRunError(
                    code: "TIMEOUT", message: "the run exceeded its time limit of \(timeout)", retryable: false))
            outcome = await withTaskGroup(of: RunOutcome?.self) { group in
                group.addTask { await self.loop(position) }
                group.addTask {
                    try? await self.runner.sleep(remaining)
                    return Task.isCancelled ? nil : timedOut
                }
                var result: RunOutcome?
                while let next = await group.next() {
                    if let next {
                        result = next
                        break
                    }
                }
                group.cancelAll()
                return result ?? .cancelled
            }
        } else {
            outcome = await loop(position)
        }
        conclude(outcome, elapsed: clock.now - start + active)
        return outcome
    }

    /// The longest deadline a run waits for.
    static let longestWait = Duration.seconds(100 * 365 * 86_400)

    /// Active time in seconds (from a checkpoint) as a duration: not finite or negative counts
    /// as none, more than `longestWait` as that.
    static func duration(seconds: Double) -> Duration {
        guard seconds.isFinite, seconds > 0 else { return .zero }
        return .milliseconds(Int64(min(seconds, Self.seconds(longestWait)) * 1000))
    }

    /// Emits the terminal event of `outcome` (none for a pause: its interrupt events end the stream).
    func conclude(_ outcome: RunOutcome, elapsed: Duration) {
        switch outcome {
        case .finished(let answer, let state):
            emit(.runFinished(answer: answer, state: state, usage: usage.withLock { $0 }, elapsed: elapsed))
        case .failed(let error): emit(.runFailed(error))
        case .cancelled: emit(.runCancelled)
        case .interrupted: break
        }
    }

    /// The super-step loop: run the ready nodes (concurrently when several), merge their updates with the
    /// reducers in node order, pick the next nodes, checkpoint.
    func loop(_ position: Position) async -> RunOutcome {
        var state = position.state
        var next = position.next
        var deferred = position.deferred
        var arrived = position.arrived
        var step = position.step
        var executions = position.nodeExecutions
        var answers = position.answers
        let clock = ContinuousClock()
        let start = clock.now
        var size = runner.limits.maxStateBytes.map { StateSize(state, limit: $0) }
        if let size, size.exceeded {
            return .failed(
                FlowRunError(
                    code: "STATE_TOO_LARGE",
                    message: "the run's state is larger than its limit of \(size.limit) bytes before any node ran "
                        + "(its inputs or state patch)"))
        }
        while !next.isEmpty {
            if Task.isCancelled { return .cancelled }
            executions += next.count
            if executions > runner.limits.maxSteps {
                return .failed(
                    FlowRunError(
                        code: "MAX_STEPS_EXCEEDED",
                        message: "the run exceeded \(runner.limits.maxSteps) node executions (the recursion limit); "
                            + "a loop in the flow may never end", nodeID: flow.nodes[next[0]].id))
            }
            step += 1
            let results: [NodeResult]
            if next.count == 1 {
                let node = flow.nodes[next[0]]
                results = [await runNode(next[0], state: state, step: step, answer: answers[node.id])]
            } else {
                let snapshot = state
                let current = next
                let currentStep = step
                let currentAnswers = answers
                results = await withTaskGroup(of: (Int, NodeResult).self) { group in
                    for (slot, index) in current.enumerated() {
                        let answer = currentAnswers[self.flow.nodes[index].id]
                        group.addTask {
                            (slot, await self.runNode(index, state: snapshot, step: currentStep, answer: answer))
                        }
                    }
                    var collected = [NodeResult](repeating: NodeResult(), count: current.count)
                    for await (slot, result) in group { collected[slot] = result }
                    return collected
                }
            }
            answers = [:]
            if results.contains(where: \.cancelled) { return .cancelled }
            if let failure = results.lazy.compactMap(\.failure).first { return .failed(failure) }

            var interrupts: [FlowInterrupt] = []
            var interrupted: [Int] = []
            var upcoming: [Int] = []
            func schedule(_ target: Int, from source: Int) {
                let waitFor = flow.nodes[target].waitFor
                if !waitFor.isEmpty {
                    var seen = arrived[target] ?? []
                    if !seen.contains(source) { seen.append(source) }
                    guard waitFor.allSatisfy(seen.contains) else {
                        arrived[target] = seen
                        return
                    }
                    arrived[target] = nil
                }
                if !upcoming.contains(target) { upcoming.append(target) }
            }
            for (index, result) in zip(next, results) {
                if let interrupt = result.interrupt {
                    interrupts.append(interrupt)
                    interrupted.append(index)
                    continue
                }
                for (channel, value) in result.updates {
                    if let error = apply(value, to: channel, in: &state, nodeID: flow.nodes[index].id) {
                        return .failed(error)
                    }
                    size?.update(channel, in: state)
                }
                // Checked before the checkpoint: an oversized state is never saved.
                if let size, size.exceeded {
                    let nodeID = flow.nodes[index].id
                    return .failed(
                        FlowRunError(
                            code: "STATE_TOO_LARGE",
                            message: "node '\(nodeID)' made the run's state larger than its limit of \(size.limit) "
                                + "bytes", nodeID: nodeID))
                }
            }
            for (index, result) in zip(next, results) where result.interrupt == nil {
                if let route = result.route {
                    for target in route { schedule(target, from: index) }
                } else {
                    for edge in flow.nodes[index].edges where edge.condition?.holds(in: state) ?? true {
                        schedule(edge.target, from: index)
                    }
                }
            }
            for target in deferred where !upcoming.contains(target) { upcoming.append(target) }
            // Document order makes the merge order of a step (and so which overwrite wins) predictable.
            if upcoming.count > 1 { upcoming.sort() }
            if interrupts.isEmpty {
                deferred = []
            } else {
                deferred = upcoming
                upcoming = interrupted
            }

            var checkpointID: String?
            if let checkpointer = runner.checkpointer {
                let id = "\(runID):\(step)"
                checkpointID = id
                let finishedCount = results.count - interrupts.count
                let checkpoint = FlowCheckpoint(
                    id: id, runID: runID, step: step,
                    nodeIDs: zip(next, results).filter { $0.1.interrupt == nil }.map { flow.nodes[$0.0].id },
                    next: upcoming.map { flow.nodes[$0].id }, deferred: deferred.map { flow.nodes[$0].id },
                    waiting: Dictionary(
                        uniqueKeysWithValues: arrived.map { (flow.nodes[$0].id, $1.map { flow.nodes[$0].id }) }),
                    state: state, interrupts: interrupts,
                    sequence: sequence.withLock { $0 } + Int64(finishedCount + interrupts.count),
                    nodeExecutions: executions,
                    activeSeconds: position.activeSeconds + Self.seconds(clock.now - start),
                    usage: usage.withLock { $0 }, completedSideEffects: [:], createdAt: Date())
                do {
                    try await checkpointer.save(checkpoint)
                } catch {
                    if Task.isCancelled { return .cancelled }
                    return .failed(
                        FlowRunError(
                            code: "CHECKPOINT_FAILED", message: "saving the run's state failed: \(error)",
                            retryable: true))
                }
            }
            for (index, result) in zip(next, results) where result.interrupt == nil {
                emit(
                    .nodeFinished(
                        nodeID: flow.nodes[index].id, step: step,
                        update: Dictionary(result.updates, uniquingKeysWith: { $1 }), checkpointID: checkpointID,
                        elapsed: result.elapsed))
            }
            for interrupt in interrupts { emit(.interrupt(interrupt)) }
            if !interrupts.isEmpty { return .interrupted(interrupts) }
            next = upcoming
        }
        return .finished(answer: state["answer"]?.stringValue ?? "", state: state)
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Merges one write into the state with the channel's reducer; a type mismatch is an error.
    func apply(_ value: JSONValue, to name: String, in state: inout [String: JSONValue], nodeID: String)
        -> FlowRunError?
    {
        guard let channel = flow.channels[name] else {
            state[name] = value
            return nil
        }
        func mismatch(_ expected: String) -> FlowRunError {
            FlowRunError(
                code: "TYPE_MISMATCH",
                message:
                    "node '\(nodeID)' wrote \(value.jsonText.prefix(80)) to channel '\(name)', which takes \(expected)",
                nodeID: nodeID)
        }
        switch channel.reducer {
        case .overwrite:
            guard channel.type.accepts(value) else { return mismatch("a \(channel.type.rawValue)") }
            state[name] = value
        case .append:
            // Taking the array out keeps it uniquely referenced, so appending does not copy it.
            var list = state.removeValue(forKey: name)?.arrayValue ?? []
            if case .array(let items) = value { list.append(contentsOf: items) } else { list.append(value) }
            state[name] = .array(list)
        case .merge:
            guard case .object(let members) = value else { return mismatch("an object to merge") }
            var object = state.removeValue(forKey: name)?.objectValue ?? [:]
            object.merge(members) { $1 }
            state[name] = .object(object)
        }
        return nil
    }

    /// Runs one node with its retry policy and timeout; never throws.
    func runNode(_ index: Int, state: [String: JSONValue], step: Int, answer: HumanInput?) async -> NodeResult {
        let node = flow.nodes[index]
        let clock = ContinuousClock()
        let begin = clock.now
        emit(.nodeStarted(nodeID: node.id, kind: node.kind.name, step: step))
        do {
            var result: NodeResult
            if node.timeout == nil, node.retry.maxAttempts <= 1 {
                result = try await execute(node, state: state, step: step, answer: answer)
            } else {
                result = try await executeWithPolicy(node, state: state, step: step, answer: answer)
            }
            if let limit = runner.limits.maxNodeOutputBytes {
                try checkOutput(result.updates.lazy.map(\.1), of: node, limit: limit)
            }
            if runner.onEvent != nil { result.elapsed = clock.now - begin }
            return result
        } catch let error as FlowRunError {
            return NodeResult(failure: error)
        } catch let error as NodeError {
            if case .tool(_, _, let output, true) = node.kind {
                let value = JSONValue.object([
                    "error": .object(["kind": .string(error.kind.rawValue), "message": .string(error.message)])
                ])
                return NodeResult(updates: output.map { [($0, value)] } ?? [], elapsed: clock.now - begin)
            }
            return NodeResult(failure: Self.runError(error, node: node))
        } catch {
            if error is CancellationError || Task.isCancelled { return NodeResult(cancelled: true) }
            return NodeResult(
                failure: FlowRunError(
                    code: "INTERNAL", message: "node '\(node.id)' failed: \(error)", nodeID: node.id, retryable: true))
        }
    }

    /// The most bytes one rendered template may have: the larger of the run's size limits (none
    /// without them).
    var renderLimit: Int {
        [runner.limits.maxStateBytes, runner.limits.maxNodeOutputBytes].compactMap { $0 }.max() ?? .max
    }

    /// `template` rendered under `renderLimit`; past it the node fails (`TEMPLATE_TOO_LARGE`, not retried).
    func render(_ template: Template, _ state: [String: JSONValue], _ node: CompiledNode) throws -> String {
        do {
            return try template.render(state, limit: renderLimit)
        } catch {
            throw Self.templateTooLarge(node, limit: error.limit)
        }
    }

    /// `template` rendered under `renderLimit` (see above).
    func render(_ template: ValueTemplate, _ state: [String: JSONValue], _ node: CompiledNode) throws -> JSONValue {
        do {
            return try template.render(state, limit: renderLimit)
        } catch {
            throw Self.templateTooLarge(node, limit: error.limit)
        }
    }

    static func templateTooLarge(_ node: CompiledNode, limit: Int) -> FlowRunError {
        FlowRunError(
            code: "TEMPLATE_TOO_LARGE",
            message: "a template of node '\(node.id)' rendered more than the run's limit of \(limit) bytes",
            nodeID: node.id)
    }

    /// Fails the node (`NODE_OUTPUT_TOO_LARGE`, not retried) when `values` together are larger
    /// than `limit` as compact JSON.
    func checkOutput(_ values: some Sequence<JSONValue>, of node: CompiledNode, limit: Int) throws {
        var total = 0
        for value in values {
            total = Saturating.add(total, value.encodedSize(limit: limit))
            if total > limit {
                throw FlowRunError(
                    code: "NODE_OUTPUT_TOO_LARGE",
                    message: "node '\(node.id)' produced more than the run's node-output limit of \(limit) bytes",
                    nodeID: node.id)
            }
        }
    }

    static func runError(_ error: NodeError, node: CompiledNode) -> FlowRunError {
        let retryable = [.unavailable, .timeout, .rateLimited].contains(error.kind)
        let code: String
        switch (error.kind, node.kind) {
        case (.timeout, _): code = "NODE_TIMEOUT"
        case (_, .tool): code = "TOOL_FAILED"
        case (.unavailable, .llm), (.unavailable, .llmRouter), (.rateLimited, .llm), (.rateLimited, .llmRouter):
            code = "LLM_UNAVAILABLE"
        case (_, .llm), (_, .llmRouter): code = "LLM_FAILED"
        default: code = "INTERNAL"
        }
        return FlowRunError(code: code, message: error.message, nodeID: node.id, retryable: retryable)
    }

    /// Turns any error into a `NodeError`; cancellation and run errors pass through.
    static func classify(_ error: any Error) throws -> NodeError {
        if error is CancellationError || Task.isCancelled { throw CancellationError() }
        if let error = error as? FlowRunError { throw error }
        if let error = error as? NodeError { return error }
        return NodeError(.internal, String(describing: error))
    }

    func executeWithPolicy(_ node: CompiledNode, state: [String: JSONValue], step: Int, answer: HumanInput?)
        async throws -> NodeResult
    {
        var attempt = 1
        while true {
            do {
                guard let timeout = node.timeout else {
                    return try await execute(node, state: state, step: step, answer: answer)
                }
                return try await withThrowingTaskGroup(of: NodeResult.self) { group in
                    group.addTask { try await self.execute(node, state: state, step: step, answer: answer) }
                    group.addTask {
                        try await self.runner.sleep(timeout)
                        throw NodeError(.timeout, "node '\(node.id)' took longer than \(timeout)")
                    }
                    defer { group.cancelAll() }
                    return try await group.next()!
                }
            } catch {
                let failure = try Self.classify(error)
                guard attempt < node.retry.maxAttempts, node.retry.retryOn.contains(failure.kind) else { throw failure }
                try await runner.sleep(node.retry.backoff(after: attempt))
                attempt += 1
            }
        }
    }

    /// One attempt of one node.
    func execute(_ node: CompiledNode, state: [String: JSONValue], step: Int, answer: HumanInput?)
        async throws -> NodeResult
    {
        switch node.kind {
        case .set(let values):
            return NodeResult(updates: try values.map { ($0.0, try render($0.1, state, node)) })

        case .end(let answerTemplate):
            let answer = try answerTemplate.map { try render($0, state, node) }
            return NodeResult(updates: answer.map { [("answer", .string($0))] } ?? [], route: [])

        case .router(let routes, let fallback):
            if let route = routes.first(where: { $0.0.holds(in: state) }) { return NodeResult(route: [route.1]) }
            if let fallback { return NodeResult(route: [fallback]) }
            throw FlowRunError(
                code: "NO_ROUTE", message: "no route of router '\(node.id)' matched and it has no default",
                nodeID: node.id)

        case .llm(let model, let system, let prompt, let output):
            var messages: [ChatMessage] = []
            if let system { messages.append(ChatMessage(role: .system, content: try render(system, state, node))) }
            messages.append(ChatMessage(role: .user, content: try render(prompt, state, node)))
            let nodeID = node.id
            let result: ChatResult
            do {
                result = try await runner.model.chat(ChatRequest(model: model, messages: messages)) { delta in
                    self.emit(.answerDelta(nodeID: nodeID, text: delta))
                }
            } catch {
                let failure = try Self.classify(error)
                throw failure.kind == .internal ? NodeError(.modelFailed, failure.message) : failure
            }
            addUsage(result)
            return NodeResult(updates: output.map { [($0, .string(result.text))] } ?? [])

        case .llmRouter(let model, let prompt, let options, let output, let fallback):
            let request = ChatRequest(
                model: model, messages: [ChatMessage(role: .user, content: try render(prompt, state, node))],
                tools: options.map { ChatToolChoice(name: $0.name, description: $0.description) })
            let result: ChatResult
            do {
                result = try await runner.model.chat(request) { _ in }
            } catch {
                let failure = try Self.classify(error)
                throw failure.kind == .internal ? NodeError(.modelFailed, failure.message) : failure
            }
            addUsage(result)
            let answer = result.text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            let chosen =
                options.first { $0.name == result.toolCall } ?? options.first { $0.name.lowercased() == answer }
            guard let target = chosen?.target ?? fallback else {
                throw NodeError(.modelFailed, "the model chose none of the options of '\(node.id)'")
            }
            let name = chosen.map { JSONValue.string($0.name) } ?? .null
            return NodeResult(updates: output.map { [($0, name)] } ?? [], route: [target])

        case .humanInput(let prompt, let choices, let output):
            if let answer {
                var value = JSONValue.string(answer.text)
                if let data = answer.data, let output, flow.channels[output]?.type != .string { value = data }
                return NodeResult(updates: output.map { [($0, value)] } ?? [])
            }
            let interrupt = FlowInterrupt(
                interruptID: "\(runID):\(step):\(node.id)", nodeID: node.id, prompt: try render(prompt, state, node),
                choices: choices)
            return NodeResult(interrupt: interrupt)

        case .tool(let tool, let arguments, let output, _):
            let rendered = try render(arguments, state, node)
            let key = "\(runID):\(step):\(node.id)"
            emit(.toolCall(callID: key, nodeID: node.id, tool: tool, arguments: rendered))
            let clock = ContinuousClock()
            let begin = clock.now
            if let stored = sideEffects[key] {
                emit(
                    .toolResult(
                        callID: key, nodeID: node.id, tool: tool, result: stored, errorMessage: nil, replayed: true,
                        elapsed: clock.now - begin))
                return NodeResult(updates: output.map { [($0, stored)] } ?? [])
            }
            let result: JSONValue
            do {
                result = try await runner.tools.execute(
                    ToolInvocation(tool: tool, arguments: rendered, idempotencyKey: key, runID: runID, nodeID: node.id))
            } catch {
                let failure = try Self.classify(error)
                emit(
                    .toolResult(
                        callID: key, nodeID: node.id, tool: tool, result: nil, errorMessage: failure.message,
                        replayed: false, elapsed: clock.now - begin))
                throw failure.kind == .internal ? NodeError(.toolFailed, failure.message) : failure
            }
            // An oversized result is neither recorded nor reported.
            if let limit = runner.limits.maxNodeOutputBytes {
                try checkOutput(CollectionOfOne(result), of: node, limit: limit)
            }
            if let checkpointer = runner.checkpointer {
                try await checkpointer.recordSideEffect(runID: runID, key: key, result: result)
            }
            emit(
                .toolResult(
                    callID: key, nodeID: node.id, tool: tool, result: result, errorMessage: nil, replayed: false,
                    elapsed: clock.now - begin))
            return NodeResult(updates: output.map { [($0, result)] } ?? [])
        }
    }

    func addUsage(_ result: ChatResult) {
        usage.withLock {
            $0.promptTokens = Saturating.add($0.promptTokens, result.promptTokens)
            $0.completionTokens = Saturating.add($0.completionTokens, result.completionTokens)
        }
    }
}
