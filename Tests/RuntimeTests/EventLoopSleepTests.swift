import Runtime
import Testing

/// `EventLoopSleep`: waits on the loop's timers, and behaves as `Task.sleep` does.
@Suite("Sleeping on the event loop's timers")
struct EventLoopSleepTests {
    @Test func itWaitsAtLeastTheDuration() async throws {
        let start = ContinuousClock.now
        try await EventLoopSleep.sleep(for: .milliseconds(50))
        #expect(ContinuousClock.now - start >= .milliseconds(50))
    }

    @Test func aCancelledSleepThrowsAtOnce() async throws {
        let start = ContinuousClock.now
        let sleeper = Task { try await EventLoopSleep.sleep(for: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(20))
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func aTaskCancelledBeforeItSleepsDoesNotWait() async throws {
        let sleeper = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await EventLoopSleep.sleep(for: .seconds(30))
        }
        await #expect(throws: CancellationError.self) { try await sleeper.value }
    }

    @Test func zeroNegativeAndHugeDurationsAreAccepted() async throws {
        try await EventLoopSleep.sleep(for: .zero)
        try await EventLoopSleep.sleep(for: .milliseconds(-5))
        let huge = Task { try await EventLoopSleep.sleep(for: .seconds(Int64.max)) }
        huge.cancel()
        await #expect(throws: CancellationError.self) { try await huge.value }
    }

    @Test func manyConcurrentSleepsEachEndOnce() async throws {
        let woke = try await withThrowingTaskGroup(of: Int.self) { tasks in
            for index in 0..<1000 {
                tasks.addTask {
                    try await EventLoopSleep.sleep(for: .milliseconds(Int64(index % 20)))
                    return 1
                }
            }
            return try await tasks.reduce(0, +)
        }
        #expect(woke == 1000)
    }
}
