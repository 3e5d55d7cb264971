import FlowEngine
import FlowEngineProto
import Foundation
import Logging
import RPCCore
import RPCModels
import Runtime
import RuntimeSecurity
import Saturating
import Synchronization
import ToolRouting

/// How a run task begins.
enum RunLaunch: Sendable {
    /// A new run from the flow's entry.
    case start
    /// A paused run, with the person's answer.
    case resume(HumanInput)
    /// An orphaned run (its replica crashed or restarted): from its last checkpoint, or from the
    /// start when it had none.
    case recover
    /// A new run from a checkpoint of an earlier run.
    case replay(FlowCheckpoint, patch: [String: JSONValue])

    /// Whether this is a new run's start: claimed and inserted just before, nothing stored yet.
    var isStart: Bool {
        if case .start = self { true } else { false }
    }
}

/// Runs flows on this replica: holds each run's lease, pumps its events to Redis, Postgres, the
/// conversation and local subscribers, watches for cancellation, and takes over orphaned runs.
final class RunCoordinator: Sendable {
    let runs: RunStore
    let state: RunStateStore
    let settings: ExecutionSettings
    let peers: PeerClients
    let logger: Logger
    /// Tenants' settings, for the limits of new runs.
    let tenantSettings: TenantSettingsCache
    /// This replica's lease owner id.
    let replicaID: String
    /// Flows validated and compiled before.
    let flows: FlowCache
    private let live = Mutex<[String: LiveRun]>([:])
    private let leases: LeaseKeeper

    init(runs: RunStore, state: RunStateStore, settings: ExecutionSettings, peers: PeerClients, logger: Logger) {
        self.runs = runs
        self.state = state
        self.settings = settings
        self.peers = peers
        self.logger = logger
        self.tenantSettings = TenantSettingsCache(peers: peers, ttl: settings.tenantSettingsTTL)
        self.flows = FlowCache(capacity: settings.flowCacheBytes)
        let replicaID = UUID().uuidString.lowercased()
        self.replicaID = replicaID
        self.leases = LeaseKeeper(store: state, owner: replicaID, logger: logger)
    }

    /// Whether this replica runs `runID` now.
    func isLocal(_ runID: String) -> Bool { live.withLock { $0[runID] != nil } }

    /// Takes the lease of a new run and registers it as in progress, BEFORE its row is written:
    /// a crash right after the insert then leaves a run that recovery finds and continues.
    /// False when another replica holds the id's lease (a run id the control plane chose, sent twice).
    func claimNew(_ record: RunRecord) async throws -> Bool {
        try await state.claim(tenant: record.tenantID, runID: record.id, owner: replicaID)
    }

    /// Undoes `claimNew` for a run whose row could not be written.
    func unclaim(_ record: RunRecord) async {
        try? await state.markInactive(tenant: record.tenantID, runID: record.id)
        try? await state.releaseLease(tenant: record.tenantID, runID: record.id, owner: replicaID)
    }

    /// Starts the run task (its lease must be held: `claimNew`, Resume or recovery took it) and
    /// returns the stream of its events as sent to callers. `tools` are the tools resolved with
    /// the run's agent (`RunTools`); a tool not among them goes through the control plane.
    func launch(
        _ record: RunRecord, _ mode: RunLaunch, caller: AuthContext, tools: [Agentplane_V1_Tool] = []
    ) async throws -> AsyncStream<Agentplane_V1_ExecutionEvent> {
        // A new run was marked when it was claimed.
        if !mode.isStart { try await state.markActive(tenant: record.tenantID, runID: record.id) }
        let (events, subscriber) = AsyncStream<Agentplane_V1_ExecutionEvent>.makeStream()
        let liveRun = LiveRun(subscriber: subscriber)
        live.withLock { $0[record.id] = liveRun }
        let task = Task { [self] in
            await AuthContext.$current.withValue(caller) {
                await self.drive(record, mode, liveRun: liveRun, tools: tools)
            }
        }
        liveRun.setTask(task)
        return events
    }

    private func drive(_ record: RunRecord, _ mode: RunLaunch, liveRun: LiveRun, tools: [Agentplane_V1_Tool]) async {
        let tenant = record.tenantID
        let runID = record.id
        defer {
            live.withLock { _ = $0.removeValue(forKey: runID) }
            liveRun.finishSubscriber()
        }
        guard let flow = flows.validation(of: record.flowJSON).flow else {
            await finalizeWithoutEngine(
                record, error: FlowRunError(code: "FLOW_INVALID", message: "the flow no longer validates"))
            return
        }
        let flowEvents = FlowEventQueue()
        let model: any ModelClient =
            settings.useGateway ? GatewayModelClient(peers: peers, runID: runID) : BuiltinModelClient()
        let caps = RunCaps.stored(in: record, platform: settings)
        let runner = FlowRunner(
            flow: flow, model: model,
            tools: RunTools(
                resolved: tools, router: ToolRouter(peers: peers),
                controlPlane: ControlPlaneTools(peers: peers, conversationID: record.conversationID)),
            checkpointer: RedisCheckpointer(store: state, tenant: tenant), limits: caps.engineLimits,
            onEvent: { flowEvents.push($0) }, sleep: { try await EventLoopSleep.sleep(for: $0) })
        var byReference: [String: Agentplane_V1_Tool] = [:]
        for tool in tools {
            byReference[tool.id] = tool
            byReference[tool.name] = tool
        }
        let pump = EventPump(
            coordinator: self, record: record, liveRun: liveRun, actingUser: AuthContext.current?.effectiveUserID ?? "",
            maxEventBytes: caps.maxEventBytes, fresh: mode.isStart, tools: byReference)
        let pumping = Task { await pump.run(flowEvents) }

        let engine = Task {
            do {
                switch mode {
                case .start:
                    _ = await runner.start(
                        runID: runID, input: record.input, inputs: ProtoJSON.members(text: record.inputsJSON))
                case .resume(let input):
                    _ = try await runner.resume(runID: runID, input: input)
                case .recover:
                    if try await state.latest(tenant: tenant, runID: runID) != nil {
                        _ = try await runner.resume(runID: runID)
                    } else {
                        _ = await runner.start(
                            runID: runID, input: record.input, inputs: ProtoJSON.members(text: record.inputsJSON))
                    }
                case .replay(let checkpoint, let patch):
                    _ = await runner.replay(runID: runID, from: checkpoint, statePatch: patch)
                }
            } catch {
                liveRun.setEngineError("\(error)")
            }
            flowEvents.finish()
        }
        liveRun.setEngine(engine)
        if liveRun.leaseLost { engine.cancel() }  // Detached before the engine existed.
        leases.watch(tenant: tenant, runID: runID, liveRun: liveRun, engine: engine)
        await engine.value
        leases.unwatch(runID)
        let sawTerminal = await pumping.value
        if let message = liveRun.engineError, !sawTerminal, !liveRun.leaseLost {
            await finalizeWithoutEngine(record, error: FlowRunError(code: "INTERNAL", message: message))
        }
        try? await state.releaseLease(tenant: tenant, runID: runID, owner: replicaID)
    }

    /// Ends a run the engine could not run, with a `run_failed` event.
    func finalizeWithoutEngine(_ record: RunRecord, error: FlowRunError) async {
        let current = (try? await runs.run(id: record.id, tenant: record.tenantID)) ?? record
        var event = Agentplane_V1_ExecutionEvent()
        event.runID = record.id
        event.sequence = Saturating.add(current.lastSequence, 1)
        event.emittedAt = Google_Protobuf_Timestamp(date: Date())
        var failed = Agentplane_V1_RunFailed()
        failed.error = EventMapper.error(error)
        event.payload = .runFailed(failed)
        try? await state.append([event], tenant: record.tenantID, ended: true)
        try? await runs.update(
            record.id, tenant: record.tenantID,
            RunChange(
                status: .failed, lastSequence: event.sequence, currentNodeID: "", pendingInterruptJSON: "", error: error
            ))
        try? await state.markInactive(tenant: record.tenantID, runID: record.id)
        live.withLock { $0[record.id] }?.publish(event)
    }

    /// Ends a run that nobody runs (CancelRun on a run waiting for input, or an orphan cancelled
    /// before a replica took it over).
    func cancelPaused(_ record: RunRecord, _ request: CancelRequest) async throws {
        let stored = try await state.lastSequence(tenant: record.tenantID, runID: record.id)
        var event = Agentplane_V1_ExecutionEvent()
        event.runID = record.id
        event.sequence = Saturating.add(max(record.lastSequence, stored), 1)
        event.emittedAt = Google_Protobuf_Timestamp(date: Date())
        var cancelled = Agentplane_V1_RunCancelled()
        cancelled.reason = request.reason
        cancelled.cancelledBy = request.cancelledBy
        event.payload = .runCancelled(cancelled)
        try await state.append([event], tenant: record.tenantID, ended: true)
        try await runs.update(
            record.id, tenant: record.tenantID,
            RunChange(status: .cancelled, lastSequence: event.sequence, pendingInterruptJSON: ""))
        try await state.markInactive(tenant: record.tenantID, runID: record.id)
    }

    // MARK: Answers

    /// Appends the assistant's answer to the run's conversation (which the control plane then
    /// marks IDLE in the same transaction); the saved message (nil for a standalone run). The key
    /// `<run_id>:assistant:1` makes a retry or a resumed run save it once. `metadata`: the
    /// message's (the citations, `AnswerCitations`).
    func saveAnswer(_ answer: String, of record: RunRecord, metadata: [String: String] = [:]) async throws
        -> Agentplane_V1_Message?
    {
        guard !record.conversationID.isEmpty else { return nil }
        var request = Agentplane_V1_AppendMessageRequest()
        request.metadata = metadata
        request.conversationID = record.conversationID
        request.role = .assistant
        request.content = answer
        request.runID = record.id
        request.idempotencyKey = "\(record.id):assistant:1"
        var lastError: any Error = RPCError(code: .unavailable, message: "not attempted")
        for attempt in 0..<3 {
            do {
                let client = Agentplane_V1_ConversationService.Client(try peers.client(for: .control))
                return try await client.appendMessage(request).message ?? Agentplane_V1_Message()
            } catch let error as RPCError where error.code == .unavailable || error.code == .deadlineExceeded {
                lastError = error
                try await Task.sleep(for: .milliseconds(200 * (attempt + 1)))
            }
        }
        throw lastError
    }

    // MARK: Recovery

    /// Writes the outcome of a run whose replica crashed after its last step was checkpointed but
    /// before the outcome was recorded: a pause (the checkpoint holds interrupts) or the end (no next
    /// nodes). Nothing is left to run, so the engine is not started.
    func settle(_ record: RunRecord, from checkpoint: FlowCheckpoint) async throws {
        let stored = try await state.lastSequence(tenant: record.tenantID, runID: record.id)
        var event = Agentplane_V1_ExecutionEvent()
        event.runID = record.id
        event.sequence = Saturating.add(max(record.lastSequence, checkpoint.sequence, stored), 1)
        event.emittedAt = Google_Protobuf_Timestamp(date: Date())
        var change = RunChange(lastSequence: event.sequence, currentNodeID: "", usage: checkpoint.usage)
        if let interrupt = checkpoint.interrupts.first {
            event.payload = .interrupt(EventMapper.interrupt(interrupt, raisedAt: Date()))
            change.status = .waitingForInput
            change.pendingInterruptJSON = String(decoding: try JSONEncoder().encode(interrupt), as: UTF8.self)
        } else {
            let answer = checkpoint.state["answer"]?.stringValue ?? ""
            var finished = Agentplane_V1_RunFinished()
            finished.answer = answer
            finished.finalState = ProtoJSON.structure(checkpoint.state)
            finished.usage = EventMapper.usage(checkpoint.usage)
            finished.elapsed = Google_Protobuf_Duration(checkpoint.activeTime)
            event.payload = .runFinished(finished)
            let limit = RunCaps.stored(in: record, platform: settings).maxEventBytes
            let size = event.serializedBytes().count
            if size > limit - EventPump.messageIDAllowance {
                let failure = FlowRunError(
                    code: "EVENT_TOO_LARGE",
                    message:
                        "the run_finished event is \(size) bytes, more than the run's event limit of \(limit) bytes",
                    nodeID: checkpoint.nodeIDs.last ?? "")
                var failed = Agentplane_V1_RunFailed()
                failed.error = EventMapper.error(failure)
                event.payload = .runFailed(failed)
                change.status = .failed
                change.error = failure
            } else {
                finished.record(saved: try await saveAnswer(answer, of: record))
                event.payload = .runFinished(finished)
                change.status = .succeeded
                change.answer = answer
                change.messageID = finished.messageID
            }
        }
        try await state.append([event], tenant: record.tenantID, ended: change.status != .waitingForInput)
        try await runs.update(record.id, tenant: record.tenantID, change)
        try await state.markInactive(tenant: record.tenantID, runID: record.id)
    }

    /// Looks for runs in progress whose replica is gone (lease expired) and continues them here.
    func recoverOrphans() async {
        guard let active = try? await state.activeRuns() else { return }
        for (tenant, runID) in active where !isLocal(runID) {
            guard (try? await state.acquireLease(tenant: tenant, runID: runID, owner: replicaID)) == true else {
                continue
            }
            do {
                guard let record = try await runs.run(id: runID, tenant: tenant), record.status == .running
                else {
                    try await state.markInactive(tenant: tenant, runID: runID)
                    try await state.releaseLease(tenant: tenant, runID: runID, owner: replicaID)
                    continue
                }
                if let cancel = try await state.cancelRequest(tenant: tenant, runID: runID) {
                    try await cancelPaused(record, cancel)
                    try await state.releaseLease(tenant: tenant, runID: runID, owner: replicaID)
                    continue
                }
                if let checkpoint = try await state.latest(tenant: tenant, runID: runID),
                    !checkpoint.interrupts.isEmpty || checkpoint.next.isEmpty
                {
                    logger.info("recording the outcome of orphaned run \(runID) from its last checkpoint")
                    try await settle(record, from: checkpoint)
                    try await state.releaseLease(tenant: tenant, runID: runID, owner: replicaID)
                    continue
                }
                logger.info("continuing orphaned run \(runID) of tenant \(tenant) from its last checkpoint")
                let caller = AuthContext(
                    kind: .service, tenantID: tenant, userID: "service:execution", role: .service,
                    actingUserID: record.startedBy.isEmpty ? nil : record.startedBy, serviceName: "execution")
                _ = try await launch(record, .recover, caller: caller)
            } catch {
                logger.warning("cannot continue orphaned run \(runID): \(error)")
                try? await state.releaseLease(tenant: tenant, runID: runID, owner: replicaID)
            }
        }
    }

    /// The background task: `recoverOrphans` every `recoveryInterval` until cancelled (the host
    /// shuts down); then the runs still in progress here are handed over (`suspendAll`).
    func recoveryLoop() async throws {
        while !Task.isCancelled {
            await recoverOrphans()
            try? await Task.sleep(for: settings.recoveryInterval)
        }
        await suspendAll()
    }

    /// Stops every run of this replica without ending it and releases its lease, so another
    /// replica (or this service after its restart) continues it from its last checkpoint at once
    /// instead of after the lease expires.
    func suspendAll() async {
        let running = live.withLock { Array($0.values) }
        guard !running.isEmpty else { return }
        logger.info("handing over \(running.count) runs in progress")
        for run in running { run.detach() }
        for run in running { await run.task?.value }
    }
}
