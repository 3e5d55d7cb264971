import FlowEngine
import Foundation
import Logging
import RPCCore
import RPCModels

/// Takes a run's engine events in order and makes them durable and visible: the run's Redis
/// stream (for WatchRun), its Postgres row (for GetRun / ListRuns), the conversation (the
/// assistant's answer, through the control plane), and the caller's stream.
struct EventPump: Sendable {
    let coordinator: RunCoordinator
    let record: RunRecord
    let liveRun: LiveRun
    let actingUser: String

    /// Processes every event; whether a terminal event was seen.
    func run(_ events: FlowEventQueue) async -> Bool {
        let mapper = EventMapper(
            agentID: record.agentID, agentVersion: record.agentVersion, conversationID: record.conversationID,
            actingUser: actingUser, omitStateUpdates: record.omitStateUpdates)
        var steps = record.stepCount
        var sawTerminal = false
        // Numbers are given here, by the one writer the lease allows, following what the run's
        // stream already holds: after a takeover the engine numbers from its last checkpoint,
        // and events the previous replica emitted after it but never stored would otherwise
        // leave a gap (and events it did store would be shadowed). Steps re-run after a crash
        // thus appear again, under new numbers.
        var stored = (try? await coordinator.state.lastSequence(tenant: record.tenantID, runID: record.id)) ?? 0
        let row = RunRowWriter(
            runs: coordinator.runs, runID: record.id, tenant: record.tenantID,
            interval: coordinator.settings.progressInterval, logger: coordinator.logger)
        while let batch = await events.nextBatch() {
            if liveRun.leaseLost {  // Handed over: whoever continues the run reports.
                await row.discard()
                continue
            }
            // A batch is stored with one Redis round trip and at most one row write, then
            // handed on in order.
            var batchEvents: [Agentplane_V1_ExecutionEvent] = []
            var batchChange: RunChange?
            var batchEnded = false
            var batchPaused = false
            for flowEvent in batch {
                let (event, change, ended) = await map(flowEvent, mapper: mapper, sequence: &stored, steps: &steps)
                batchEvents.append(event)
                batchChange = batchChange.map { $0.merged(with: change) } ?? change
                batchEnded = batchEnded || ended
                batchPaused = batchPaused || event.interrupt != nil
            }
            sawTerminal = sawTerminal || batchEnded
            if let batchChange {
                await persist(batchEvents, change: batchChange, ended: batchEnded, paused: batchPaused, row: row)
            }
            for event in batchEvents { liveRun.publish(event) }
        }
        if !liveRun.leaseLost { await row.flush() }
        return sawTerminal
    }

    /// One engine event as the contract's event (numbered next) and what it changes on the
    /// run's row; whether it ended the run. A finished run's answer is saved here, first.
    private func map(
        _ flowEvent: FlowEvent, mapper: EventMapper, sequence stored: inout Int64, steps: inout Int
    ) async -> (Agentplane_V1_ExecutionEvent, RunChange, Bool) {
        var event = mapper.event(flowEvent)
        stored += 1
        event.sequence = stored
        var change = RunChange(lastSequence: event.sequence)
        var ended = false
        switch flowEvent.payload {
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
                let messageID = try await coordinator.saveAnswer(answer, of: record)
                event.runFinished?.messageID = messageID
                change.status = .succeeded
                change.answer = answer
                change.messageID = messageID
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
        case .answerDelta, .toolCall, .toolResult:
            break
        }
        if ended || event.interrupt != nil {
            change.currentNodeID = ""
        }
        return (event, change, ended)
    }

    private func persist(
        _ events: [Agentplane_V1_ExecutionEvent], change: RunChange, ended: Bool, paused: Bool, row: RunRowWriter
    ) async {
        let tenant = record.tenantID
        do {
            try await coordinator.state.append(events, tenant: tenant, ended: ended)
        } catch {
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
        if ended || paused {
            try? await coordinator.state.markInactive(tenant: tenant, runID: record.id)
        }
    }
}
