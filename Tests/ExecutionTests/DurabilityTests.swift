import Foundation
import RPCCore
import RPCModels
import RuntimeRedis
import ServiceTestSupport
import Testing

@Suite("Execution: WatchRun, checkpoints, retention and ReplayRun")
struct DurabilityTests {
    @Test func watchRunReattachesMidRunAndReplaysEverythingAfterTheEnd() async throws {
        let fixture = try await ExecutionFixture.start()
        let metadata = try await builder(uniqueTenant("watch"))
        let client = fixture.client
        let running = Task {
            try await collect {
                try await client.execute(
                    draftRequest(Flows.crash(slowMilliseconds: 1500)), metadata: metadata, onResponse: $0)
            }
        }
        var runID: String?
        for _ in 0..<200 where runID == nil {
            runID = fixture.control.toolCalls.first { $0.tool == "slow" }?.runID
            if runID == nil { try await Task.sleep(for: .milliseconds(25)) }
        }
        var watch = Agentplane_V1_WatchRunRequest()
        watch.runID = try #require(runID)
        watch.afterSequence = 3
        let rest = try await collect { try await client.watchRun(watch, metadata: metadata, onResponse: $0) }
        #expect(rest.first?.sequence == 4)
        #expect(rest.last.map(kind) == "run_finished")
        #expect(rest.map(\.sequence) == Array(4...Int64(3 + rest.count)))

        let streamed = try await running.value
        watch.afterSequence = 0
        let all = try await collect { try await client.watchRun(watch, metadata: metadata, onResponse: $0) }
        #expect(all.map(\.sequence) == streamed.map(\.sequence))
        #expect(all.map(kind) == streamed.map(kind))
        #expect(Array(all.suffix(rest.count)).map(kind) == rest.map(kind))
        try await fixture.stop()
    }

    @Test func checkpointsAreListedCappedWithATTLAndReplayable() async throws {
        let fixture = try await ExecutionFixture.start(["EXECUTION_CHECKPOINT_RETENTION": "3"])
        let tenant = uniqueTenant("checkpoints")
        let metadata = try await builder(tenant)
        let events = try await collect {
            try await fixture.client.execute(draftRequest(Flows.counter(6)), metadata: metadata, onResponse: $0)
        }
        let runID = try #require(events.first?.runID)
        #expect(events.last?.runFinished?.finalState?.fields["n"]?.numberValue == 6)

        var list = Agentplane_V1_ListCheckpointsRequest()
        list.runID = runID
        list.includeState = true
        let kept = try await fixture.client.listCheckpoints(list, metadata: metadata).checkpoints
        #expect(kept.map(\.step) == [4, 5, 6])
        #expect(kept.map(\.nodeID) == ["s4", "s5", "s6"])
        #expect(kept.first?.nextNodeIDS == ["s5"])
        #expect(kept.first?.state?.fields["n"]?.numberValue == 4)
        #expect(kept.first?.id == "\(runID):4")
        let finishedEvent = events.first { $0.nodeFinished?.nodeID == "s4" }
        #expect(finishedEvent?.nodeFinished?.checkpointID == "\(runID):4")
        #expect(kept.first?.sequence ?? 0 > 0)

        // Pages, and a TTL on the stored list.
        list.pageSize = 2
        let page = try await fixture.client.listCheckpoints(list, metadata: metadata)
        #expect(page.checkpoints.map(\.step) == [4, 5])
        list.pageToken = page.nextPageToken
        #expect(try await fixture.client.listCheckpoints(list, metadata: metadata).checkpoints.map(\.step) == [6])
        let redis = RedisPool(configuration: try RedisConfiguration(url: testRedisURL))
        defer { redis.close() }
        let key = try RedisKey.tenant(tenant, "run", runID, "checkpoints")
        #expect(try await redis.send("LLEN", key).int() == 3)
        let ttl = try await redis.send("PTTL", key).int()
        #expect(ttl > 0 && ttl <= 7 * 86_400_000)
        // The ended run's events are kept for 24 hours.
        let eventTTL = try await redis.send("PTTL", try RedisKey.tenant(tenant, "run", runID, "events")).int()
        #expect(eventTTL > 0 && eventTTL <= 86_400_000)

        // Replay from step 4 with a patch: a new run continues with s5, the original is untouched.
        var replay = Agentplane_V1_ReplayRunRequest()
        replay.runID = runID
        replay.checkpointID = "\(runID):4"
        replay.statePatch = Google_Protobuf_Struct(fields: ["n": Google_Protobuf_Value(kind: .numberValue(40))])
        let replayed = try await collect {
            try await fixture.client.replayRun(replay, metadata: metadata, onResponse: $0)
        }
        let started = try #require(replayed.first?.runStarted)
        #expect(started.replayedFromRunID == runID)
        #expect(started.replayedFromCheckpointID == "\(runID):4")
        #expect(replayed.first?.runID != runID)
        #expect(replayed.compactMap(\.nodeStarted?.nodeID) == ["s5", "s6"])
        #expect(replayed.last?.runFinished?.finalState?.fields["n"]?.numberValue == 6)
        var get = Agentplane_V1_GetRunRequest()
        get.runID = try #require(replayed.first?.runID)
        let copy = try #require(try await fixture.client.getRun(get, metadata: metadata).run)
        #expect(copy.replayedFromRunID == runID)
        #expect(copy.status == .succeeded)
        get.runID = runID
        #expect(try await fixture.client.getRun(get, metadata: metadata).run?.lastSequence == Int64(events.count))

        replay.checkpointID = "\(runID):1"  // Trimmed by the retention of 3.
        #expect(
            await statusCode {
                try await collect { try await fixture.client.replayRun(replay, metadata: metadata, onResponse: $0) }
            } == .notFound)
        try await fixture.stop()
    }
}
