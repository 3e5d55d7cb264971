import FlowEngine
import FlowEngineProto
import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimeSecurity
import Saturating

/// The ExecutionService RPCs. Runs execute in tasks of their own (a caller that goes away only
/// detaches); the handlers start them and relay their events.
struct ExecutionHandler: Agentplane_V1_ExecutionService.ServiceProtocol {
    let coordinator: RunCoordinator

    private var runs: RunStore { coordinator.runs }
    private var state: RunStateStore { coordinator.state }

    /// The caller; builders see only the runs they started ([Roles] in execution.proto).
    private static func caller() throws(RPCError) -> (context: AuthContext, owner: String?) {
        guard let context = AuthContext.current else {
            throw RPCError(code: .unauthenticated, message: "this call requires credentials")
        }
        if context.role != .service, !context.role.satisfies(.builder) {
            throw RPCError(code: .permissionDenied, message: "this call needs the builder role or above")
        }
        return (context, context.role == .builder ? context.effectiveUserID : nil)
    }

    private func existingRun(_ id: String, caller: (context: AuthContext, owner: String?)) async throws -> RunRecord {
        guard !id.isEmpty else { throw RPCError.invalidField("run_id", code: "MISSING_FIELD", "run_id is required") }
        guard let record = try await runs.run(id: id, tenant: caller.context.tenantID, owner: caller.owner) else {
            throw RPCError(code: .notFound, message: "no run \(ClientInput.excerpt(id))")
        }
        return try await expiringInput(record)
    }

    /// A run left waiting for input longer than the input TTL fails (INPUT_EXPIRED) when next looked at.
    private func expiringInput(_ record: RunRecord) async throws -> RunRecord {
        let waited = Date().timeIntervalSince1970 * 1000 - Double(record.updatedAtMilliseconds)
        guard record.status == .waitingForInput, waited > Double(coordinator.settings.inputTTL.milliseconds) else {
            return record
        }
        await coordinator.finalizeWithoutEngine(
            record,
            error: FlowRunError(
                code: "INPUT_EXPIRED", message: "the run waited for input longer than it may; start a new run"))
        return try await runs.run(id: record.id, tenant: record.tenantID) ?? record
    }

    // MARK: Execute

    func execute(
        request: Agentplane_V1_ExecuteRequest, response: ResponseWriter<Agentplane_V1_ExecutionEvent>,
        context: ServerContext
    ) async throws {
        let caller = try Self.caller()
        try Self.checkServiceFields(request, caller: caller.context)
        var record = RunRecord(
            id: request.runID.isEmpty ? UUID().uuidString.lowercased() : request.runID,
            tenantID: caller.context.tenantID)
        var tools: [Agentplane_V1_Tool] = []
        switch request.source {
        case .draftFlowJSON(let json):
            if request.resolvedAgent != nil {
                throw RPCError.invalidField(
                    "resolved_agent", code: "NOT_ALLOWED", "resolved_agent goes only with source.agent")
            }
            try validate(json, field: "draft_flow_json", code: .invalidArgument)
            record.flowJSON = json
        case .agent(let ref):
            guard !ref.agentID.isEmpty else {
                throw RPCError.invalidField("agent.agent_id", code: "MISSING_FIELD", "agent.agent_id is required")
            }
            let (agent, resolved) = try await resolvedOrLoadedAgent(ref, request.resolvedAgent)
            tools = resolved
            try validate(agent.flowJSON, field: "agent.flow_json", code: .failedPrecondition)
            record.flowJSON = agent.flowJSON
            record.agentID = agent.id.isEmpty ? ref.agentID : agent.id
            record.agentVersion = agent.version
        case nil:
            throw RPCError.invalidField(
                "source", code: "MISSING_FIELD", "set agent (a stored agent) or draft_flow_json (a draft flow)")
        }
        try await ConversationAccess.check(request.conversationID, caller: caller.context, peers: coordinator.peers)
        record.conversationID = request.conversationID
        record.inputMessageID = request.inputMessageID
        record.input = request.input
        record.inputsJSON = ProtoJSON.text(ProtoJSON.members(request.inputs))
        try await applyLimits(request.options, to: &record)
        record.startedBy = caller.context.effectiveUserID
        try await insertClaimed(record)
        let events = try await launchOrFail(record, .start, caller: caller.context, tools: tools)
        try await relay(events, to: response)
    }

    /// Claims a new run in Redis, then writes its row; the claim is undone when the row is refused.
    private func insertClaimed(_ record: RunRecord) async throws {
        let claimed: Bool
        do {
            claimed = try await coordinator.claimNew(record)
        } catch {
            throw RPCError(code: .unavailable, message: "the run state store is unavailable; retry later")
        }
        // Only a run id the control plane chose can be held already: by a run in progress.
        if !claimed { throw RPCError(code: .alreadyExists, message: "run \(record.id) exists already") }
        do {
            try await runs.insert(record, maxConcurrent: coordinator.settings.maxConcurrentRuns)
        } catch {
            await coordinator.unclaim(record)
            throw error
        }
    }

    /// Starts a new run's task; when that fails (the state store is down), the stored run is
    /// marked failed so it does not look active forever.
    private func launchOrFail(
        _ record: RunRecord, _ mode: RunLaunch, caller: AuthContext, tools: [Agentplane_V1_Tool] = []
    ) async throws -> AsyncStream<Agentplane_V1_ExecutionEvent> {
        do {
            return try await coordinator.launch(record, mode, caller: caller, tools: tools)
        } catch {
            let failure = FlowRunError(code: "STATE_STORE_UNAVAILABLE", message: "\(error)", retryable: true)
            try? await runs.update(record.id, tenant: record.tenantID, RunChange(status: .failed, error: failure))
            throw RPCError(code: .unavailable, message: "the run state store is unavailable; retry later")
        }
    }

    /// Sets the run's limits (`RunCaps`): what `options` ask for (else `steps` / `timeout`, a
    /// replay's original values), lowered to the tenant's settings and the platform's maxima.
    private func applyLimits(
        _ options: Agentplane_V1_RunOptions?, to record: inout RunRecord, steps: Int = 0, timeout: Duration? = nil
    ) async throws {
        var steps = steps
        var timeout = timeout
        if let options {
            if options.maxSteps < 0 {
                throw RPCError.invalidField("options.max_steps", code: "NEGATIVE", "max_steps must be 0 or positive")
            }
            if options.maxSteps > 0 { steps = Int(options.maxSteps) }
            if let requested = options.timeout?.duration {
                if requested < .zero {
                    throw RPCError.invalidField("options.timeout", code: "NEGATIVE", "timeout must be 0 or positive")
                }
                if requested > .zero { timeout = requested }
            }
            record.omitStateUpdates = options.omitStateUpdates
        }
        let tenant = try await coordinator.tenantSettings.settings(tenant: record.tenantID)
        RunCaps.resolve(steps: steps, timeout: timeout, tenant: tenant, platform: coordinator.settings).store(
            in: &record)
    }

    /// INVALID_ARGUMENT (a draft) or FAILED_PRECONDITION (a stored version) with every
    /// validation error as a field violation.
    private func validate(_ json: String, field: String, code: Status.Code) throws {
        let validation = coordinator.flows.validation(of: json)
        guard !validation.isValid else { return }
        let violations = validation.errors.map { issue in
            var violation = Agentplane_V1_FieldViolation()
            violation.field = issue.path
            violation.code = issue.code
            violation.explanation = issue.message
            return violation
        }
        let summary = validation.errors.prefix(3).map(\.description).joined(separator: "; ")
        throw RPCError.withDetails(
            code, "\(field) fails validation (\(validation.errors.count) errors): \(summary)", reason: "FLOW_INVALID",
            violations: violations)
    }

    /// `run_id` and `resolved_agent` are the control plane's: any other caller gets INVALID_ARGUMENT,
    /// and a run id must be a UUID (lowercase, as the service makes them).
    private static func checkServiceFields(_ request: Agentplane_V1_ExecuteRequest, caller: AuthContext) throws {
        let supplied = !request.runID.isEmpty ? "run_id" : request.resolvedAgent != nil ? "resolved_agent" : nil
        if let supplied, caller.role != .service {
            throw RPCError.invalidField(supplied, code: "SERVICE_ONLY", "\(supplied) is set only by the control plane")
        }
        if !request.runID.isEmpty {
            guard let uuid = UUID(uuidString: request.runID), uuid.uuidString.lowercased() == request.runID else {
                throw RPCError.invalidField("run_id", code: "NOT_A_UUID", "run_id must be a lowercase UUID")
            }
        }
    }

    /// The agent and its tools as the control plane sent them (`resolved_agent`, checked against
    /// `ref`), else asked for with GetAgent.
    private func resolvedOrLoadedAgent(
        _ ref: Agentplane_V1_AgentRef, _ resolved: Agentplane_V1_GetAgentResponse?
    ) async throws -> (Agentplane_V1_Agent, [Agentplane_V1_Tool]) {
        guard let resolved else { return try await loadAgent(ref) }
        guard let agent = resolved.agent, agent.id == ref.agentID, ref.version == 0 || agent.version == ref.version
        else {
            throw RPCError.invalidField(
                "resolved_agent", code: "MISMATCH", "resolved_agent is not the agent version source.agent names")
        }
        return (agent, resolved.tools)
    }

    /// The agent `ref` names and the tools its flow uses, in one call to the control plane.
    private func loadAgent(_ ref: Agentplane_V1_AgentRef) async throws -> (Agentplane_V1_Agent, [Agentplane_V1_Tool]) {
        var request = Agentplane_V1_GetAgentRequest()
        request.agentID = ref.agentID
        request.version = ref.version
        request.includeTools = true
        let client = Agentplane_V1_AgentService.Client(try coordinator.peers.client(for: .control))
        do {
            let response = try await client.getAgent(request)
            guard let agent = response.agent else {
                throw RPCError(code: .notFound, message: "no agent \(ClientInput.excerpt(ref.agentID))")
            }
            return (agent, response.tools)
        } catch let error as RPCError where error.code == .notFound {
            throw RPCError(
                code: .notFound,
                message: "no agent \(ClientInput.excerpt(ref.agentID)) version \(ref.version): \(error.message)")
        } catch let error as RPCError where error.code == .permissionDenied || error.code == .unauthenticated {
            throw RPCError(code: .unavailable, message: "the control plane refused to load the agent: \(error.message)")
        }
    }

    /// Writes the run's events to the caller until the run ends or pauses; a caller that goes
    /// away only detaches (the run continues).
    private func relay(
        _ events: AsyncStream<Agentplane_V1_ExecutionEvent>, to response: ResponseWriter<Agentplane_V1_ExecutionEvent>
    ) async throws {
        for await event in events {
            try await response.write(event)
            if event.endsStream { return }
        }
    }

    // MARK: Resume

    func resume(
        request: Agentplane_V1_ResumeRequest, response: ResponseWriter<Agentplane_V1_ExecutionEvent>,
        context: ServerContext
    ) async throws {
        let caller = try Self.caller()
        let record = try await existingRun(request.runID, caller: caller)
        guard record.status == .waitingForInput else {
            throw RPCError(
                code: .failedPrecondition,
                message: "run \(record.id) is \(record.status.rawValue), not waiting for input")
        }
        guard let input = request.input, !input.interruptID.isEmpty else {
            throw RPCError.invalidField("input.interrupt_id", code: "MISSING_FIELD", "input.interrupt_id is required")
        }
        guard let checkpoint = try await state.latest(tenant: record.tenantID, runID: record.id),
            !checkpoint.interrupts.isEmpty
        else {
            throw RPCError(code: .failedPrecondition, message: "run \(record.id) has no pending interrupt")
        }
        guard let pending = checkpoint.interrupts.first(where: { $0.interruptID == input.interruptID }) else {
            throw RPCError(
                code: .aborted, message: "interrupt \(input.interruptID) is not the pending one (already answered?)")
        }
        if !pending.choices.isEmpty, !pending.choices.contains(input.text) {
            throw RPCError.invalidField(
                "input.text", code: "INVALID_CHOICE",
                "the answer must be one of: \(pending.choices.joined(separator: ", "))")
        }
        guard
            try await state.acquireLease(tenant: record.tenantID, runID: record.id, owner: coordinator.replicaID)
        else {
            throw RPCError(code: .aborted, message: "run \(record.id) is being resumed by another call")
        }
        let answer = HumanInput(
            interruptID: input.interruptID, text: input.text,
            data: input.data.map { JSONValue.object(ProtoJSON.members($0)) })
        let events: AsyncStream<Agentplane_V1_ExecutionEvent>
        do {
            try await runs.update(
                record.id, tenant: record.tenantID, RunChange(status: .running, pendingInterruptJSON: ""))
            events = try await coordinator.launch(record, .resume(answer), caller: caller.context)
        } catch {
            try? await state.releaseLease(tenant: record.tenantID, runID: record.id, owner: coordinator.replicaID)
            throw error
        }
        try await relay(events, to: response)
    }

    // MARK: GetRun, ListRuns

    func getRun(request: Agentplane_V1_GetRunRequest, context: ServerContext) async throws
        -> Agentplane_V1_GetRunResponse
    {
        let caller = try Self.caller()
        let record = try await existingRun(request.runID, caller: caller)
        var response = Agentplane_V1_GetRunResponse()
        var runState: [String: JSONValue]?
        if request.includeState {
            runState = try await state.latest(tenant: record.tenantID, runID: record.id)?.state ?? [:]
        }
        response.run = record.proto(state: runState)
        return response
    }

    func listRuns(request: Agentplane_V1_ListRunsRequest, context: ServerContext) async throws
        -> Agentplane_V1_ListRunsResponse
    {
        let caller = try Self.caller()
        let size = try Pagination.pageSize(request.pageSize)
        let createdFrom = try request.createdAfter.map { try Self.milliseconds($0, "created_after") }
        let createdBefore = try request.createdBefore.map { try Self.milliseconds($0, "created_before") }
        if let createdFrom, let createdBefore, createdBefore <= createdFrom {
            throw RPCError.invalidField(
                "created_before", code: "OUT_OF_RANGE", "created_before must be later than created_after")
        }
        let filters =
            "\(request.agentID)|\(request.conversationID)|\(request.status.rawValue)|"
            + "\(createdFrom.map(String.init) ?? "")|\(createdBefore.map(String.init) ?? "")"
        var cursor: (Int64, String)?
        if let parts = try Pagination.cursor(from: request.pageToken, filters: filters) {
            guard parts.count == 2, let created = Int64(parts[0]) else {
                throw RPCError.invalidField(
                    "page_token", code: "MALFORMED", "page_token is not one this service issued")
            }
            cursor = (created, parts[1])
        }
        let page = try await runs.list(
            tenant: caller.context.tenantID, owner: caller.owner, agentID: request.agentID,
            conversationID: request.conversationID, status: RunState(request.status), createdFrom: createdFrom,
            createdBefore: createdBefore, after: cursor, limit: size + 1)
        var response = Agentplane_V1_ListRunsResponse()
        response.runs = page.prefix(size).map { $0.proto() }
        if page.count > size, let last = page.prefix(size).last {
            response.nextPageToken = Pagination.token(
                cursor: [String(last.createdAtMilliseconds), last.id], filters: filters)
        }
        return response
    }

    /// A timestamp bound in milliseconds since the epoch (runs are listed with millisecond
    /// creation times; a finer bound rounds up), checked before any arithmetic: years 1 to 9999
    /// and nanoseconds within a second, as google.protobuf.Timestamp allows.
    static func milliseconds(_ timestamp: Google_Protobuf_Timestamp, _ field: String) throws -> Int64 {
        guard (-62_135_596_800...253_402_300_799).contains(timestamp.seconds),
            (0...999_999_999).contains(timestamp.nanos)
        else {
            throw RPCError.invalidField(field, code: "OUT_OF_RANGE", "\(field) is not a valid timestamp")
        }
        return timestamp.seconds * 1000 + Int64((timestamp.nanos + 999_999) / 1_000_000)
    }

    // MARK: CancelRun

    func cancelRun(request: Agentplane_V1_CancelRunRequest, context: ServerContext) async throws
        -> Agentplane_V1_CancelRunResponse
    {
        let caller = try Self.caller()
        let record = try await existingRun(request.runID, caller: caller)
        guard !record.status.isTerminal else {
            throw RPCError(
                code: .failedPrecondition, message: "run \(record.id) already ended (\(record.status.rawValue))")
        }
        let cancel = CancelRequest(reason: request.reason, cancelledBy: caller.context.effectiveUserID)
        try await state.requestCancel(tenant: record.tenantID, runID: record.id, cancel)
        // The replica running it stops it within ~100 ms; a paused run is ended here. Its lease
        // may still be held for a moment after the pause was recorded (the run's task lets it go
        // last), so taking it is tried again while waiting.
        var current = record
        for _ in 0..<100 {
            if current.status == .waitingForInput,
                try await state.acquireLease(tenant: current.tenantID, runID: current.id, owner: coordinator.replicaID)
            {
                // Nobody runs a paused run: end it here, under its lease so a concurrent Resume
                // waits; read again under the lease, in case a Resume came first.
                do {
                    if let paused = try await runs.run(id: record.id, tenant: record.tenantID),
                        paused.status == .waitingForInput
                    {
                        try await coordinator.cancelPaused(paused, cancel)
                    }
                } catch {
                    try? await state.releaseLease(
                        tenant: current.tenantID, runID: current.id, owner: coordinator.replicaID)
                    throw error
                }
                try? await state.releaseLease(tenant: current.tenantID, runID: current.id, owner: coordinator.replicaID)
            }
            if let latest = try await runs.run(id: record.id, tenant: record.tenantID) {
                current = latest
                if latest.status.isTerminal { break }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        var response = Agentplane_V1_CancelRunResponse()
        response.run = current.proto()
        return response
    }

    // MARK: ListCheckpoints

    func listCheckpoints(request: Agentplane_V1_ListCheckpointsRequest, context: ServerContext) async throws
        -> Agentplane_V1_ListCheckpointsResponse
    {
        let caller = try Self.caller()
        let size = try Pagination.pageSize(request.pageSize)
        let record = try await existingRun(request.runID, caller: caller)
        let filters = "\(record.id)|\(request.includeState)"
        var afterStep = -1
        if let parts = try Pagination.cursor(from: request.pageToken, filters: filters) {
            guard parts.count == 1, let step = Int(parts[0]) else {
                throw RPCError.invalidField(
                    "page_token", code: "MALFORMED", "page_token is not one this service issued")
            }
            afterStep = step
        }
        let all = try await state.checkpoints(tenant: record.tenantID, runID: record.id).filter { $0.step > afterStep }
        var response = Agentplane_V1_ListCheckpointsResponse()
        response.checkpoints = all.prefix(size).map { checkpoint in
            var out = Agentplane_V1_Checkpoint()
            out.id = checkpoint.id
            out.runID = checkpoint.runID
            out.step = Int32(clamping: checkpoint.step)
            out.nodeID = checkpoint.nodeIDs.first ?? ""
            out.nextNodeIDS = checkpoint.next
            out.sequence = checkpoint.sequence
            if request.includeState { out.state = ProtoJSON.structure(checkpoint.state) }
            out.createdAt = Google_Protobuf_Timestamp(date: checkpoint.createdAt)
            return out
        }
        if all.count > size, let last = all.prefix(size).last {
            response.nextPageToken = Pagination.token(cursor: [String(last.step)], filters: filters)
        }
        return response
    }

    // MARK: WatchRun

    func watchRun(
        request: Agentplane_V1_WatchRunRequest, response: ResponseWriter<Agentplane_V1_ExecutionEvent>,
        context: ServerContext
    ) async throws {
        let caller = try Self.caller()
        guard request.afterSequence >= 0 else {
            throw RPCError.invalidField("after_sequence", code: "NEGATIVE", "after_sequence must be 0 or positive")
        }
        var record = try await existingRun(request.runID, caller: caller)
        var after = request.afterSequence
        var first = true
        var idlePolls = 0
        while true {
            let (events, firstRetained) = try await state.events(
                tenant: record.tenantID, runID: record.id, after: after)
            if first {
                first = false
                let missing = firstRetained.map { $0 > Saturating.add(after, 1) } ?? (record.lastSequence > after)
                if missing {
                    throw RPCError(
                        code: .outOfRange,
                        message: "events after sequence \(after) of run \(record.id) are no longer retained")
                }
            }
            var paused = false
            for event in events {
                try await response.write(event)
                after = event.sequence
                // A pause ends the stream only when nothing follows it (a resumed or cancelled run goes on).
                if event.endsStream, event.interrupt == nil { return }
                paused = event.interrupt != nil
            }
            if events.isEmpty || paused {
                idlePolls += 1
                // Every ~second, see whether the run stopped without a new event to show.
                if paused || idlePolls % 20 == 0 || record.status != .running {
                    record = try await runs.run(id: record.id, tenant: record.tenantID) ?? record
                    if record.status != .running, record.status != .pending, record.lastSequence <= after {
                        return
                    }
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    // MARK: ReplayRun

    func replayRun(
        request: Agentplane_V1_ReplayRunRequest, response: ResponseWriter<Agentplane_V1_ExecutionEvent>,
        context: ServerContext
    ) async throws {
        let caller = try Self.caller()
        let original = try await existingRun(request.runID, caller: caller)
        guard !request.checkpointID.isEmpty else {
            throw RPCError.invalidField("checkpoint_id", code: "MISSING_FIELD", "checkpoint_id is required")
        }
        guard
            let checkpoint = try await state.checkpoints(tenant: original.tenantID, runID: original.id).first(where: {
                $0.id == request.checkpointID
            })
        else {
            throw RPCError(
                code: .notFound,
                message: "run \(original.id) has no checkpoint \(ClientInput.excerpt(request.checkpointID))")
        }
        var record = RunRecord(id: UUID().uuidString.lowercased(), tenantID: original.tenantID)
        record.agentID = original.agentID
        record.agentVersion = original.agentVersion
        record.conversationID = original.conversationID
        record.flowJSON = original.flowJSON
        record.input = original.input
        record.inputsJSON = original.inputsJSON
        record.omitStateUpdates = original.omitStateUpdates
        try await ConversationAccess.check(original.conversationID, caller: caller.context, peers: coordinator.peers)
        try await applyLimits(
            request.options, to: &record, steps: original.maxSteps,
            timeout: original.timeoutMilliseconds > 0 ? .milliseconds(original.timeoutMilliseconds) : nil)
        record.replayedFromRunID = original.id
        record.replayedFromCheckpointID = checkpoint.id
        record.startedBy = caller.context.effectiveUserID
        try await insertClaimed(record)
        let events = try await launchOrFail(
            record, .replay(checkpoint, patch: ProtoJSON.members(request.statePatch)), caller: caller.context)
        try await relay(events, to: response)
    }
}
