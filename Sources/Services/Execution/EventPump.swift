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
    func run(_ events: AsyncStream<FlowEvent>) async -> Bool {
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
        for await flowEvent in events {
            if liveRun.leaseLost {  // Handed over: whoever continues the run reports.
                await row.discard()
                continue
            }
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
                sawTerminal = sawTerminal || ended
            }
            await persist(event, change: change, ended: ended, row: row)
            liveRun.publish(event)
        }
        if !liveRun.leaseLost { await row.flush() }
        return sawTerminal
    }

    private func persist(
        _ event: Agentplane_V1_ExecutionEvent, change: RunChange, ended: Bool, row: RunRowWriter
    ) async {
        let tenant = record.tenantID
        do {
            try await coordinator.state.append([event], tenant: tenant, ended: ended)
        } catch {
            coordinator.logger.warning("run \(record.id): event \(event.sequence) not stored: \(error)")
        }
        // A caller that saw an event may ask GetRun next: a new status must be stored first.
        // Progress alone (node started or finished) may lag by the progress interval.
        if change.status != nil || ended {
            await row.submit(change, now: true)
        } else if change.stepCount != nil || change.currentNodeID != nil {
            await row.submit(change, now: false)
        }
        if ended || event.interrupt != nil {
            try? await coordinator.state.markInactive(tenant: tenant, runID: record.id)
        }
    }
}
