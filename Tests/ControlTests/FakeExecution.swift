import Foundation
import RPCCore
import RPCModels
import Synchronization

/// Test-only execution service. Execute streams run_started, an answer_delta and run_finished
/// (answer "echo: <input>", no saved message id, so the control plane saves the answer); an input
/// containing "ask me" pauses on an interrupt instead, and "fail" ends with run_failed. Resume
/// finishes the paused run with "resumed: <text>". "hold on" stays RUNNING after run_started
/// until `released` is set. `runs` holds runs a test declares (any agent, any status): ListRuns
/// filters them by agent and status, GetRun reports them. As the execution service being lost
/// looks to the control plane: "refuse at once" fails with UNAVAILABLE before any event; "drop
/// after start" sends run_started, then fails with UNAVAILABLE, and "end early" sends run_started
/// and ends the stream; both leave the run declared RUNNING in `runs` (another replica would
/// carry it on) for the test to end.
final class FakeExecution: Agentplane_V1_ExecutionService.ServiceProtocol {
    let executed = Mutex<[Agentplane_V1_ExecuteRequest]>([])
    let resumed = Mutex<[Agentplane_V1_ResumeRequest]>([])
    /// Runs GetRun reports RUNNING; any other id is NOT_FOUND.
    let running = Mutex<Set<String>>([])
    /// Set to let "hold on" runs finish.
    let released = Mutex(false)
    /// Declared runs: id → (agent id, status as ListRuns reports it, status as GetRun reports it).
    let runs = Mutex<[String: (agent: String, listed: Agentplane_V1_RunStatus, current: Agentplane_V1_RunStatus)]>(
        [:])
    /// ListRuns requests received.
    let listed = Mutex<[Agentplane_V1_ListRunsRequest]>([])

    private static func event(_ runID: String, _ sequence: Int64, _ payload: Agentplane_V1_ExecutionEvent.OneOf_Payload)
        -> Agentplane_V1_ExecutionEvent
    {
        var event = Agentplane_V1_ExecutionEvent()
        event.runID = runID
        event.sequence = sequence
        event.payload = payload
        return event
    }

    func execute(
        request: Agentplane_V1_ExecuteRequest, response: ResponseWriter<Agentplane_V1_ExecutionEvent>,
        context: ServerContext
    ) async throws {
        executed.withLock { $0.append(request) }
        if request.input.contains("refuse at once") {
            throw RPCError(code: .unavailable, message: "fake execution: connection refused")
        }
        // As the execution service: the run takes the id the control plane chose, when it chose one.
        let runID = request.runID.isEmpty ? "run-" + UUID().uuidString.prefix(8).lowercased() : request.runID
        var started = Agentplane_V1_RunStarted()
        started.agentID = request.agent?.agentID ?? ""
        started.conversationID = request.conversationID
        try await response.write(Self.event(runID, 1, .runStarted(started)))
        if request.input.contains("drop after start") || request.input.contains("end early") {
            runs.withLock { $0[runID] = (agent: started.agentID, listed: .running, current: .running) }
            if request.input.contains("end early") { return }
            throw RPCError(code: .unavailable, message: "fake execution: replica lost")
        }
        if request.input.contains("ask me") {
            var interrupt = Agentplane_V1_Interrupt()
            interrupt.interruptID = "int-1"
            interrupt.prompt = "Which order?"
            try await response.write(Self.event(runID, 2, .interrupt(interrupt)))
            return
        }
        if request.input.contains("hold on") {
            running.withLock { _ = $0.insert(runID) }
            for _ in 0..<200 where !released.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(50)) }
            running.withLock { _ = $0.remove(runID) }
        }
        if request.input.contains("fail") {
            var failed = Agentplane_V1_RunFailed()
            var error = Agentplane_V1_RunError()
            error.code = "TOOL_FAILED"
            failed.error = error
            try await response.write(Self.event(runID, 2, .runFailed(failed)))
            return
        }
        var delta = Agentplane_V1_AnswerDelta()
        delta.text = "echo: "
        try await response.write(Self.event(runID, 2, .answerDelta(delta)))
        var finished = Agentplane_V1_RunFinished()
        finished.answer = "echo: \(request.input)"
        try await response.write(Self.event(runID, 3, .runFinished(finished)))
    }

    func resume(
        request: Agentplane_V1_ResumeRequest, response: ResponseWriter<Agentplane_V1_ExecutionEvent>,
        context: ServerContext
    ) async throws {
        resumed.withLock { $0.append(request) }
        try await response.write(Self.event(request.runID, 3, .runResumed(Agentplane_V1_RunResumed())))
        var finished = Agentplane_V1_RunFinished()
        finished.answer = "resumed: \(request.input?.text ?? "")"
        try await response.write(Self.event(request.runID, 4, .runFinished(finished)))
    }

    func getRun(request: Agentplane_V1_GetRunRequest, context: ServerContext) async throws
        -> Agentplane_V1_GetRunResponse
    {
        let declared = runs.withLock { $0[request.runID] }
        guard running.withLock({ $0.contains(request.runID) }) || declared != nil else {
            throw RPCError(code: .notFound, message: "no run \(request.runID)")
        }
        var run = Agentplane_V1_Run()
        run.id = request.runID
        run.status = declared?.current ?? .running
        var response = Agentplane_V1_GetRunResponse()
        response.run = run
        return response
    }

    func listRuns(request: Agentplane_V1_ListRunsRequest, context: ServerContext) async throws
        -> Agentplane_V1_ListRunsResponse
    {
        listed.withLock { $0.append(request) }
        var response = Agentplane_V1_ListRunsResponse()
        response.runs = runs.withLock { runs in
            runs.filter { _, run in
                (request.agentID.isEmpty || run.agent == request.agentID)
                    && (request.status == .unspecified || run.listed == request.status)
            }.map { id, run in
                var listed = Agentplane_V1_Run()
                listed.id = id
                listed.status = run.listed
                return listed
            }
        }
        return response
    }

    func cancelRun(request: Agentplane_V1_CancelRunRequest, context: ServerContext) async throws
        -> Agentplane_V1_CancelRunResponse
    {
        throw RPCError(code: .unimplemented, message: "fake execution")
    }

    func listCheckpoints(request: Agentplane_V1_ListCheckpointsRequest, context: ServerContext) async throws
        -> Agentplane_V1_ListCheckpointsResponse
    {
        throw RPCError(code: .unimplemented, message: "fake execution")
    }

    func watchRun(
        request: Agentplane_V1_WatchRunRequest, response: ResponseWriter<Agentplane_V1_ExecutionEvent>,
        context: ServerContext
    ) async throws {
        throw RPCError(code: .unimplemented, message: "fake execution")
    }

    func replayRun(
        request: Agentplane_V1_ReplayRunRequest, response: ResponseWriter<Agentplane_V1_ExecutionEvent>,
        context: ServerContext
    ) async throws {
        throw RPCError(code: .unimplemented, message: "fake execution")
    }
}
