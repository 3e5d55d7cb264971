import Logging
import Runtime

/// Keeps one run's Postgres row current without a write per engine event: a change of status
/// (or the end) is written at once, and the pump waits for it; progress alone (the node running,
/// the step count) is written at most once per `EXECUTION_PROGRESS_INTERVAL`, and the latest of
/// it always lands within that interval. A flow's every node used to cost two row updates, the
/// biggest share of Postgres's work per message.
actor RunRowWriter {
    private let runs: RunStore
    private let runID: String
    private let tenant: String
    private let interval: Duration
    private let logger: Logger
    private var pending: RunChange?
    private var lastWrite: ContinuousClock.Instant?
    private var timer: Task<Void, Never>?
    private var writing = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// A writer for one run's row; `writtenNow` says the row was just written (a new run's
    /// insert), so progress waits a whole interval before its first write: a run shorter than
    /// the interval then writes its row once more, at its end, with everything.
    init(runs: RunStore, runID: String, tenant: String, interval: Duration, logger: Logger, writtenNow: Bool = false) {
        self.runs = runs
        self.runID = runID
        self.tenant = tenant
        self.interval = interval
        self.logger = logger
        self.lastWrite = writtenNow ? .now : nil
    }

    /// Takes `change`; returns once it is written when `now` is set or the interval has passed,
    /// else at once, leaving it to the timer.
    func submit(_ change: RunChange, now urgent: Bool) async {
        pending = pending.map { $0.merged(with: change) } ?? change
        let elapsed = lastWrite.map { ContinuousClock.now - $0 }
        if urgent || elapsed.map({ $0 >= interval }) ?? true {
            await flush()
        } else if timer == nil, let elapsed {
            let wait = interval - elapsed
            timer = Task { [weak self] in
                do { try await EventLoopSleep.sleep(for: wait) } catch { return }  // Flushed meanwhile.
                await self?.timerFired()
            }
        }
    }

    /// Writes whatever is pending; returns when every change submitted so far is stored (or
    /// its write failed, which is logged: the run's events stay the record of what happened).
    func flush() async {
        while writing { await withCheckedContinuation { waiters.append($0) } }
        guard let change = pending else { return }
        pending = nil
        timer?.cancel()
        timer = nil
        writing = true
        lastWrite = .now
        do {
            try await runs.update(runID, tenant: tenant, change)
        } catch {
            logger.warning("run \(runID): status not stored: \(error)")
        }
        writing = false
        let resumed = waiters
        waiters = []
        for waiter in resumed { waiter.resume() }
    }

    /// Drops what is pending: the run was handed to another replica, whose writes count now.
    func discard() {
        pending = nil
        timer?.cancel()
        timer = nil
    }

    private func timerFired() async {
        timer = nil
        await flush()
    }
}

extension RunChange {
    /// This change followed by `later`: later values win, the sequence only grows.
    func merged(with later: RunChange) -> RunChange {
        var result = self
        result.status = later.status ?? status
        result.lastSequence = [lastSequence, later.lastSequence].compactMap { $0 }.max()
        result.stepCount = later.stepCount ?? stepCount
        result.currentNodeID = later.currentNodeID ?? currentNodeID
        result.pendingInterruptJSON = later.pendingInterruptJSON ?? pendingInterruptJSON
        result.answer = later.answer ?? answer
        result.messageID = later.messageID ?? messageID
        result.error = later.error ?? error
        result.usage = later.usage ?? usage
        result.force = force || later.force
        return result
    }
}
