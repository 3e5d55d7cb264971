import Foundation
import RPCCore
import RPCModels
import ServiceTestSupport
import Testing

@Suite("Execution: two replicas")
struct ReplicaTests {
    @Test func cancelRunOnAnotherReplicaStopsTheRun() async throws {
        let control = try await FakeControlPlane.start()
        let group = "pair-\(UUID().uuidString.lowercased())"
        let first = try await ExecutionFixture.start(["EXECUTION_REPLICA_GROUP": group], control: control)
        let second = try await ExecutionFixture.start(["EXECUTION_REPLICA_GROUP": group], control: control)
        let metadata = try await builder(uniqueTenant("pair"))
        let client = first.client
        let started = ContinuousClock.now
        let running = Task {
            try await collect {
                try await client.execute(
                    draftRequest(Flows.slow(delayMilliseconds: 20_000)), metadata: metadata, onResponse: $0)
            }
        }
        var runID: String?
        for _ in 0..<200 where runID == nil {
            runID = control.toolCalls.first { $0.tool == "slow" }?.runID
            if runID == nil { try await Task.sleep(for: .milliseconds(25)) }
        }
        var cancel = Agentplane_V1_CancelRunRequest()
        cancel.runID = try #require(runID)
        cancel.reason = "stopped elsewhere"
        let response = try await second.client.cancelRun(cancel, metadata: metadata)
        #expect(response.run?.status == .cancelled)
        let events = try await running.value
        #expect(events.last?.runCancelled?.reason == "stopped elsewhere")
        #expect(ContinuousClock.now - started < .seconds(10))
        // The run was never taken over by the other replica: one call of the tool.
        #expect(control.toolCalls.filter { $0.runID == runID }.count == 1)
        try await first.harness.stop()
        try await second.stop()
    }
}

@Suite("Execution: a restart hands runs over")
struct RestartTests {
    @Test func aGracefulStopHandsTheRunToTheNextReplicaWithoutRepeatingSteps() async throws {
        let control = try await FakeControlPlane.start()
        let group = "restart-\(UUID().uuidString.lowercased())"
        // A long lease: only the hand-over on shutdown (not the lease expiring) lets the next replica in.
        let settings = ["EXECUTION_REPLICA_GROUP": group, "EXECUTION_LEASE_TTL": "60s", "SHUTDOWN_GRACE": "200ms"]
        let first = try await ExecutionFixture.start(settings, control: control)
        let tenant = uniqueTenant("restart")
        let metadata = try await builder(tenant)
        let client = first.client
        let detached = Task {
            try await collect {
                try await client.execute(
                    draftRequest(Flows.crash(slowMilliseconds: 1500)), metadata: metadata, onResponse: $0)
            }
        }
        var runID: String?
        for _ in 0..<200 where runID == nil {
            runID = control.toolCalls.first { $0.tool == "slow" }?.runID
            if runID == nil { try await Task.sleep(for: .milliseconds(25)) }
        }
        let id = try #require(runID)
        detached.cancel()
        try await first.harness.stop()

        let second = try await ExecutionFixture.start(settings, control: control)
        var get = Agentplane_V1_GetRunRequest()
        get.runID = id
        var run = Agentplane_V1_Run()
        let started = ContinuousClock.now
        for _ in 0..<300 {
            run = try await second.client.getRun(get, metadata: metadata).run ?? run
            if run.status != .running { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(run.status == .succeeded)
        #expect(ContinuousClock.now - started < .seconds(30))
        let keys = ["t1", "t2", "t3", "t4"].enumerated().map { "\(id):\($0.offset + 1):\($0.element)" }
        #expect(control.applied == Dictionary(uniqueKeysWithValues: keys.map { ($0, 1) }))
        #expect(control.toolCalls.filter { $0.key == keys[0] }.count == 1)
        var watch = Agentplane_V1_WatchRunRequest()
        watch.runID = id
        let events = try await collect { try await second.client.watchRun(watch, metadata: metadata, onResponse: $0) }
        #expect(events.map(\.sequence) == Array(1...Int64(events.count)))
        #expect(events.last.map(kind) == "run_finished")
        #expect(!events.contains { $0.runCancelled != nil })
        try await second.stop()
    }
}
