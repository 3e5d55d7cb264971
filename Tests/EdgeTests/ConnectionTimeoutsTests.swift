import Testing

@testable import Edge

@Suite("When a connection is cut off (a state machine, no I/O)")
struct ConnectionTimeoutsTests {
    private let idle = Duration.seconds(60)
    private let request = Duration.seconds(30)

    @Test func idleBetweenRequestsCloses() {
        var timeouts = ConnectionTimeouts(idleTimeout: idle, requestTimeout: request)
        guard case .arm(let after, let generation) = timeouts.opened() else {
            Issue.record("no idle timer")
            return
        }
        #expect(after == idle)
        #expect(timeouts.timerFired(generation) == .close)
    }

    @Test func aSlowRequestGets408AndAStaleTimerNothing() {
        var timeouts = ConnectionTimeouts(idleTimeout: idle, requestTimeout: request)
        guard case .arm(_, let idleGeneration) = timeouts.opened(),
            case .arm(let after, let generation) = timeouts.requestStarted()
        else {
            Issue.record("no timers")
            return
        }
        #expect(after == request)
        #expect(timeouts.timerFired(idleGeneration) == .none)
        #expect(timeouts.timerFired(generation) == .requestTimedOut)
    }

    @Test func aLongResponseIsNeverCutAndTheNextIdleStartsAfterIt() {
        var timeouts = ConnectionTimeouts(idleTimeout: idle, requestTimeout: request)
        _ = timeouts.opened()
        guard case .arm(_, let requestGeneration) = timeouts.requestStarted() else {
            Issue.record("no request timer")
            return
        }
        #expect(timeouts.requestEnded() == .disarm)
        #expect(timeouts.phase == .responding)
        // The request's timer firing late changes nothing while the response streams.
        #expect(timeouts.timerFired(requestGeneration) == .none)
        guard case .arm(let after, let generation) = timeouts.responseEnded() else {
            Issue.record("no idle timer after the response")
            return
        }
        #expect(after == idle)
        #expect(timeouts.phase == .idle)
        #expect(timeouts.timerFired(generation) == .close)
    }

    @Test func anEarlyResponseLeavesNoTimer() {
        var timeouts = ConnectionTimeouts(idleTimeout: idle, requestTimeout: request)
        _ = timeouts.opened()
        _ = timeouts.requestStarted()
        #expect(timeouts.responseEnded() == .disarm)
        #expect(timeouts.phase == .respondedEarly)
    }
}
