import Foundation
import RPCCore
import RPCModels
import RuntimePostgres
import RuntimeRedis
import ServiceTestSupport
import Testing

/// A replica that crashed after checkpointing a run's last step but before recording its outcome
/// leaves the run "running" with nothing left to execute; recovery records the outcome instead.
@Suite("Execution: orphans whose last step was checkpointed")
struct OrphanSettlingTests {
    /// Makes a run look like its replica died before recording its outcome.
    private func orphan(_ runID: String, tenant: String, group: String) async throws {
        let admin = PostgresPool(configuration: .init(connectionString: testDatabaseURL, maximumConnections: 1))
        defer { admin.close() }
        _ = try await admin.query(
            """
            UPDATE execution.runs SET status = 'running', pending_interrupt_json = '', finished_at = NULL
            WHERE id = $1
            """,
            runID)
        let redis = RedisPool(configuration: try RedisConfiguration(url: testRedisURL))
        defer { redis.close() }
        _ = try await redis.send("SADD", "execution:active-runs:\(group)", "\(tenant)\n\(runID)")
    }

    private func waitWhileRunning(_ fixture: ExecutionFixture, _ runID: String, _ metadata: Metadata) async throws
        -> Agentplane_V1_Run
    {
        var get = Agentplane_V1_GetRunRequest()
        get.runID = runID
        var run = Agentplane_V1_Run()
        for _ in 0..<200 {
            run = try await fixture.client.getRun(get, metadata: metadata).run ?? run
            if run.status != .running { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return run
    }

    @Test func aRunPausedAtTheCrashIsRecordedAsWaitingAndCanBeResumed() async throws {
        let group = "settle-\(UUID().uuidString.lowercased())"
        let fixture = try await ExecutionFixture.start(["EXECUTION_REPLICA_GROUP": group])
        let tenant = uniqueTenant("settle-pause")
        let metadata = try await builder(tenant)
        let paused = try await collect {
            try await fixture.client.execute(draftRequest(Flows.approval), metadata: metadata, onResponse: $0)
        }
        let runID = try #require(paused.first?.runID)
        let interrupt = try #require(paused.last?.interrupt)
        try await orphan(runID, tenant: tenant, group: group)

        let run = try await waitWhileRunning(fixture, runID, metadata)
        #expect(run.status == .waitingForInput)
        #expect(run.pendingInterrupt?.interruptID == interrupt.interruptID)
        var resume = Agentplane_V1_ResumeRequest()
        resume.runID = runID
        var input = Agentplane_V1_HumanInput()
        input.interruptID = interrupt.interruptID
        input.text = "no"
        resume.input = input
        let resumed = try await collect { try await fixture.client.resume(resume, metadata: metadata, onResponse: $0) }
        #expect(resumed.last?.runFinished?.answer == "decided no")
        try await fixture.stop()
    }

    @Test func aRunFinishedAtTheCrashIsRecordedAsSucceededWithItsAnswerSavedOnce() async throws {
        let group = "settle-\(UUID().uuidString.lowercased())"
        let fixture = try await ExecutionFixture.start(["EXECUTION_REPLICA_GROUP": group])
        let tenant = uniqueTenant("settle-end")
        let metadata = try await builder(tenant)
        fixture.control.addConversation("conv-settle", tenant: tenant, createdBy: "builder-1")
        let events = try await collect {
            try await fixture.client.execute(
                draftRequest(Flows.multiStep, conversation: "conv-settle"), metadata: metadata, onResponse: $0)
        }
        let runID = try #require(events.first?.runID)
        let answer = try #require(events.last?.runFinished?.answer)
        try await orphan(runID, tenant: tenant, group: group)

        let run = try await waitWhileRunning(fixture, runID, metadata)
        #expect(run.status == .succeeded)
        #expect(run.answer == answer)
        // The answer's key makes the second save a replay: one message in the conversation.
        #expect(fixture.control.messages.values.filter { $0.runID == runID }.count == 1)
        #expect(fixture.control.appendCalls == 2)
        // No node ran again.
        #expect(fixture.control.toolCalls.filter { $0.runID == runID }.count == 1)
        try await fixture.stop()
    }

    @Test func anOrphanCancelledBeforeTheTakeoverEndsCancelledWithoutRunning() async throws {
        let group = "settle-\(UUID().uuidString.lowercased())"
        let fixture = try await ExecutionFixture.start(["EXECUTION_REPLICA_GROUP": group])
        let tenant = uniqueTenant("settle-cancel")
        let metadata = try await builder(tenant)
        let paused = try await collect {
            try await fixture.client.execute(draftRequest(Flows.approval), metadata: metadata, onResponse: $0)
        }
        let runID = try #require(paused.first?.runID)
        // CancelRun reached a replica that then died: only the flag was written.
        let redis = RedisPool(configuration: try RedisConfiguration(url: testRedisURL))
        defer { redis.close() }
        _ = try await redis.send(
            "SET", try RedisKey.tenant(tenant, "run", runID, "cancel"), #"{"reason":"gone","cancelledBy":"u-9"}"#)
        try await orphan(runID, tenant: tenant, group: group)

        let run = try await waitWhileRunning(fixture, runID, metadata)
        #expect(run.status == .cancelled)
        var watch = Agentplane_V1_WatchRunRequest()
        watch.runID = runID
        let all = try await collect { try await fixture.client.watchRun(watch, metadata: metadata, onResponse: $0) }
        #expect(all.last?.runCancelled?.reason == "gone")
        #expect(all.last?.runCancelled?.cancelledBy == "u-9")
        #expect(all.map(\.sequence) == Array(1...Int64(all.count)))
        try await fixture.stop()
    }
}
