import Testing

@testable import Execution

@Suite("Execution: when a run's Redis keys get their TTL again")
struct TTLRefreshTests {
    @Test("the first write and a final write refresh; others only once a quarter of the TTL has passed")
    func refreshSchedule() {
        var refresh = TTLRefresh(ttl: .seconds(8))
        #expect(refresh.interval == .seconds(2))
        let start = ContinuousClock.now
        let writes: [(Duration, Bool)] = [
            (.zero, false), (.milliseconds(500), false), (.milliseconds(1999), false), (.seconds(2), false),
            (.milliseconds(2100), false), (.milliseconds(2200), true), (.milliseconds(2300), false),
        ]
        let due = writes.map { refresh.due(now: start + $0.0, final: $0.1) }
        #expect(due == [true, false, false, true, false, true, false])
    }

    @Test("long TTLs are refreshed at least every minute")
    func longTTLsAreCapped() {
        #expect(TTLRefresh(ttl: .seconds(7 * 86_400)).interval == .seconds(60))
        #expect(TTLRefresh(ttl: .seconds(1)).interval == .milliseconds(250))
    }
}
