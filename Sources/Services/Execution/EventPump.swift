import FlowEngine
import Foundation
import Logging
import RPCCore
import RPCModels
import Saturating

/// Takes a run's engine events in order and makes them durable and visible: the run's Redis
/// stream (for WatchRun), its Postgres row (for GetRun / ListRuns), the conversation (the
/// assistant's answer, through the control plane), and the caller's stream.
struct EventPump: Sendable {
    let coordinator: RunCoordinator
    let record: RunRecord
    let liveRun: LiveRun
    let actingUser: String
    /// The largest event the run may store and send (`RunCaps.maxEventBytes`).
    let maxEventBytes: Int
    /// Whether the run was just inserted (a new run's first launch): its row already says
    /// RUNNING and its stream is empty, so neither needs a round trip to learn or to say so.
    let fresh: Bool
    /// The run's resolved tools, by name and by id (for the tool calls' kinds).
    var tools: [String: Agentplane_V1_Tool] = [:]

    /// Processes every event; whether a terminal event was seen.
    func run(_ events: FlowEventQueue) async -> Bool {
        let mapper = EventMapper(
            agentID: record.agentID, agentVersion: record.agentVersion, conversationID: record.conversationID,
            actingUser: actingUser, omitStateUpdates: record.omitStateUpdates, tools: tools)
        var steps = record.stepCount
        var sawTerminal = false
        var lastNode = NodeTracker()
        var citations = AnswerCitations()
        // Numbers are given here, by the one writer the lease allows, following what the run's
        // stream already holds: after a takeover the engine numbers from its last checkpoint,
        // and events the previous replica emitted after it but never stored would otherwise
        // leave a gap (and events it did store would be shadowed). Steps re-run after a crash
        // thus appear again, under new numbers.
        var stored =
            fresh ? 0 : (try? await coordinator.state.lastSequence(tenant: record.tenantID, runID: record.id)) ?? 0
        var ttl = TTLRefresh(ttl: max(coordinator.settings.eventTTL, coordinator.settings.checkpointTTL))
        let row = RunRowWriter(
            runs: coordinator.runs, runID: record.id, tenant: record.tenantID,
            interval: coordinator.settings.progressInterval, logger: coordinator.logger, writtenNow: fresh)
        while let taken = await events.nextBatch() {
            let batch = Self.mergingDeltas(taken, limit: maxEventBytes / 2)
            if liveRun.leaseLost {  // Handed over: whoever continues the run reports.
                await row.discard()
                continue
            }
            // An oversized event ended the run: what the stopping engine still emits is dropped.
            if sawTerminal { continue }
            // A batch is stored with one Redis round trip and at most one row write, then
            // handed on in order.
            var batchEvents: [Agentplane_V1_ExecutionEvent] = []
            var batchChange: RunChange?
            var batchEnded = false
            var batchPaused = false
            for flowEvent in batch {
                let (event, change, ended) = await map(
                    flowEvent, mapper: mapper, sequence: &stored, steps: &steps, lastNode: &lastNode,
                    citations: &citations)
                batchEvents.append(event)
                batchChange = batchChange.map { $0.merged(with: change) } ?? change
                batchEnded = batchEnded || ended
                batchPaused = batchPaused || event.interrupt != nil
                if ended { break }
            }
            sawTerminal = sawTerminal || batchEnded
            if let batchChange {
                let refreshTTL = ttl.due(now: .now, final: batchEnded || batchPaused)
                await persist(
                    batchEvents, change: batchChange, ended: batchEnded, paused: batchPaused, refreshTTL: refreshTTL,
                    row: row)
            }
            for event in batchEvents { liveRun.publish(event) }
        }
        if !liveRun.leaseLost { await row.flush() }
        return sawTerminal
    }

    /// One engine event as the contract's event (numbered next) and what it changes on the
    /// run's row; whether it ended the run. A finished run's answer is saved here, first, with
    /// the knowledge-base chunks the run's tools found (`citations`).
    private func map(
        _ flowEvent: FlowEvent, mapper: EventMapper, sequence stored: inout Int64, steps: inout Int,
        lastNode: inout NodeTracker, citations: inout AnswerCitations
    ) async -> (Agentplane_V1_ExecutionEvent, RunChange, Bool) {
        var event = mapper.event(flowEvent)
        stored = Saturating.add(stored, 1)
        event.sequence = stored
        lastNode.see(flowEvent.payload)
        // Checked before anything of it is stored, sent or saved (a finished run's answer).
        let size = event.serializedBytes().count
        if size > maxEventBytes - (event.runFinished != nil ? Self.messageIDAllowance : 0) {
            return oversized(event, size: size, nodeID: lastNode.id(of: flowEvent.payload))
        }
        var change = RunChange(lastSequence: event.sequence)
        var ended = false
        switch flowEvent.payload {
        case .runStarted where fresh:
            break  // Inserted as RUNNING, with nothing pending.
        case .runStarted, .runResumed:
            change.status = .running
            change.pendingInterruptJSON = ""
        case .nodeStarted(let nodeID, _, _):
            change.currentNodeID = nodeID
        case .nodeFinished:
            steps += 1
            change.stepCount = steps
        case .interrupt(let interrupt):
            change.status = .waitingForInput
            change.currentNodeID = ""
            change.pendingInterruptJSON = (try? JSONEncoder().encode(interrupt)).map {
                String(decoding: $0, as: UTF8.self)
            }
        case .runFinished(let answer, _, let usage, _):
            ended = true
            change.usage = usage
            do {
                let saved = try await coordinator.saveAnswer(answer, of: record, metadata: citations.metadata)
                event.runFinished?.record(saved: saved)
                change.status = .succeeded
                change.answer = answer
                change.messageID = saved?.id ?? ""
            } catch {
                coordinator.logger.error("run \(record.id): the answer could not be saved: \(error)")
                let failure = FlowRunError(
                    code: "ANSWER_NOT_SAVED",
                    message: "the answer could not be saved in the conversation: \(error)", retryable: true)
                var failed = Agentplane_V1_RunFailed()
                failed.error = EventMapper.error(failure)
                event.payload = .runFailed(failed)
                change.status = .failed
                change.error = failure
            }
        case .runFailed(let error):
            ended = true
            change.status = .failed
            change.error = error
        case .runCancelled:
            ended = true
            change.status = .cancelled
            let request = liveRun.cancelRequest
            event.runCancelled?.reason = request?.reason ?? ""
            event.runCancelled?.cancelledBy = request?.cancelledBy ?? ""
        case .toolResult(_, _, _, let result, _, _, _):
            citations.collect(result)
        case .answerDelta, .toolCall:
            break
        }
        if ended || event.interrupt != nil {
            change.currentNodeID = ""
        }
        return (event, change, ended)
    }

    /// `batch` with each run of answer deltas of one node joined into one delta, up to `limit`
    /// bytes of text: deltas that reached the pump together are stored, relayed and sent once,
    /// and the caller sees the same answer no later. Other events pass as they are, in order.
    static func mergingDeltas(_ batch: [FlowEvent], limit: Int) -> [FlowEvent] {
        var merged: [FlowEvent] = []
        merged.reserveCapacity(batch.count)
        for event in batch {
            if case .answerDelta(let node, let text) = event.payload, let last = merged.last,
                case .answerDelta(let lastNode, let lastText) = last.payload, lastNode == node,
                lastText.utf8.count + text.utf8.count <= limit
            {
                merged[merged.count - 1] = FlowEvent(
                    runID: last.runID, sequence: last.sequence,
                    payload: .answerDelta(nodeID: node, text: lastText + text))
            } else {
                merged.append(event)
            }
        }
        return merged
    }

    /// Room kept in a `run_finished` event for the saved message's id and time, set after the check.
    static let messageIDAllowance = 128

    /// The `run_failed` (EVENT_TOO_LARGE) that takes an oversized event's place: the event is
    /// neither stored nor sent, and the engine is stopped.
    private func oversized(_ event: Agentplane_V1_ExecutionEvent, size: Int, nodeID: String)
        -> (Agentplane_V1_ExecutionEvent, RunChange, Bool)
    {
        let kind: String
        switch event.payload {
        case .runStarted: kind = "run_started"
        case .nodeStarted: kind = "node_started"
        case .nodeFinished: kind = "node_finished"
        case .answerDelta: kind = "answer_delta"
        case .toolCall: kind = "tool_call"
        case .toolResult: kind = "tool_result"
        case .interrupt: kind = "interrupt"
        case .runResumed: kind = "run_resumed"
        case .runFinished: kind = "run_finished"
        case .runFailed: kind = "run_failed"
        case .runCancelled: kind = "run_cancelled"
        case nil: kind = "empty"
        }
        let failure = FlowRunError(
            code: "EVENT_TOO_LARGE",
            message: "node '\(nodeID)' produced a \(kind) event of \(size) bytes, more than the run's event limit of "
                + "\(maxEventBytes) bytes", nodeID: nodeID)
        coordinator.logger.warning("run \(record.id): \(failure.message)")
        liveRun.stopEngine()
        var failed = Agentplane_V1_RunFailed()
        failed.error = EventMapper.error(failure)
        var replacement = Agentplane_V1_ExecutionEvent()
        replacement.runID = event.runID
        replacement.sequence = event.sequence
        replacement.emittedAt = event.emittedAt
        replacement.payload = .runFailed(failed)
        var change = RunChange(lastSequence: event.sequence)
        change.status = .failed
        change.error = failure
        change.currentNodeID = ""
        return (replacement, change, true)
    }

    private func persist(
        _ events: [Agentplane_V1_ExecutionEvent], change: RunChange, ended: Bool, paused: Bool, refreshTTL: Bool,
        row: RunRowWriter
    ) async {
        let tenant = record.tenantID
        do {
            // A run that ended or paused no longer needs a replica: it leaves the index of runs in
            // progress with the same round trip that stores its last events.
            try await coordinator.state.append(
                events, tenant: tenant, ended: ended, inactive: ended || paused, refreshTTL: refreshTTL)
        } catch {
            if ended || paused { try? await coordinator.state.markInactive(tenant: tenant, runID: record.id) }
            let numbers = events.map(\.sequence)
            coordinator.logger.warning(
                "run \(record.id): events \(numbers.first ?? 0)–\(numbers.last ?? 0) not stored: \(error)")
        }
        // A caller that saw an event may ask GetRun next: a new status must be stored first.
        // Progress alone (node started or finished) may lag by the progress interval.
        if change.status != nil || ended {
            await row.submit(change, now: true)
        } else if change.stepCount != nil || change.currentNodeID != nil {
            await row.submit(change, now: false)
        }

    }
}
