import FlowEngine
import Foundation
import RPCCore
import RPCModels
import ServiceTestSupport
import Testing

/// Size caps, the tenant's step and time limits, hostile numbers, and whose conversation a run
/// may be attached to.
@Suite("Execution: run governance")
struct RunGovernanceTests {
    /// A `set` node that doubles `s` and loops to itself: without caps it reaches gigabytes
    /// long before the step limit.
    static let doubling = #"""
        {"entry": "grow", "state": {"s": {"type": "string", "default": "xxxxxxxxxxxxxxxx"}},
         "nodes": [{"id": "grow", "kind": "set", "values": {"s": "{{state.s}}{{state.s}}"}, "next": "grow"}]}
        """#

    /// A `set` node appending 40 characters to `items` and looping to itself.
    static let appending = #"""
        {"entry": "add", "state": {"items": {"type": "array", "reducer": "append"}},
         "nodes": [{"id": "add", "kind": "set", "values": {"items": "0123456789012345678901234567890123456789"},
                    "next": "add"}]}
        """#

    /// One `set` node writing `count` characters to `v`.
    static func writer(_ count: Int) -> String {
        #"{"entry": "w", "state": {"v": {"type": "string"}}, "nodes": [{"id": "w", "kind": "set", "values": {"v": "\#(String(repeating: "w", count: count))"}}]}"#
    }

    // MARK: Helpers

    func run(_ fixture: ExecutionFixture, _ request: Agentplane_V1_ExecuteRequest, _ metadata: Metadata) async throws
        -> [Agentplane_V1_ExecutionEvent]
    {
        try await collect { try await fixture.client.execute(request, metadata: metadata, onResponse: $0) }
    }

    /// Every stored event of a run, read back through WatchRun.
    func stored(_ fixture: ExecutionFixture, _ runID: String, _ metadata: Metadata) async throws
        -> [Agentplane_V1_ExecutionEvent]
    {
        var watch = Agentplane_V1_WatchRunRequest()
        watch.runID = runID
        return try await collect { try await fixture.client.watchRun(watch, metadata: metadata, onResponse: $0) }
    }

    /// Every retained checkpoint's state, as JSON values.
    func checkpointStates(_ fixture: ExecutionFixture, _ runID: String, _ metadata: Metadata) async throws
        -> [JSONValue]
    {
        var list = Agentplane_V1_ListCheckpointsRequest()
        list.runID = runID
        list.includeState = true
        list.pageSize = 100
        return try await fixture.client.listCheckpoints(list, metadata: metadata).checkpoints.map {
            json(Google_Protobuf_Value(kind: .structValue($0.state ?? .init())))
        }
    }

    func json(_ value: Google_Protobuf_Value) -> JSONValue {
        switch value.kind {
        case .numberValue(let number): .number(number)
        case .stringValue(let string): .string(string)
        case .boolValue(let bool): .bool(bool)
        case .structValue(let object): .object(object.fields.mapValues(json))
        case .listValue(let list): .array(list.values.map(json))
        case .nullValue, nil: .null
        }
    }

    /// The process's peak resident size in bytes since `resetPeakMemory`.
    static func peakMemory() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
        let kilobytes = try #require(Int(line.split(separator: " ").dropFirst().first ?? ""))
        return kilobytes * 1024
    }

    /// Starts measuring the peak resident size anew (Linux: `5` to clear_refs resets VmHWM).
    static func resetPeakMemory() throws {
        try "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    func settings(_ change: (inout Agentplane_V1_TenantSettings) -> Void) -> Agentplane_V1_TenantSettings {
        var settings = Agentplane_V1_TenantSettings()
        change(&settings)
        return settings
    }

    // MARK: Size caps

    @Test func aDoublingSetNodeFailsAtTheNodeOutputCapNamingItAndMemoryStaysBounded() async throws {
        let fixture = try await ExecutionFixture.start()
        let metadata = try await builder(uniqueTenant("double"))
        try Self.resetPeakMemory()
        let before = try Self.peakMemory()
        let events = try await run(fixture, draftRequest(Self.doubling), metadata)
        let peak = try Self.peakMemory()
        let error = try #require(events.last?.runFailed?.error, "\(events.last.map(kind) ?? "")")
        #expect(error.code == "NODE_OUTPUT_TOO_LARGE")
        #expect(error.nodeID == "grow")
        #expect(error.message.contains("'grow'") && error.message.contains("262144"))
        #expect(peak - before < 100 << 20, "peak memory grew by \(peak - before) bytes")
        // Nothing half-written: no checkpoint with more than the cap, no stored event over its cap.
        let runID = try #require(events.first?.runID)
        for state in try await checkpointStates(fixture, runID, metadata) {
            #expect((state["s"]?.stringValue?.utf8.count ?? 0) <= 256 << 10)
        }
        let stored = try await stored(fixture, runID, metadata)
        #expect(stored.last?.runFailed?.error?.code == "NODE_OUTPUT_TOO_LARGE")
        #expect(stored.allSatisfy { $0.serializedBytes().count <= 3 << 20 })
        var get = Agentplane_V1_GetRunRequest()
        get.runID = runID
        #expect(try await fixture.client.getRun(get, metadata: metadata).run?.error?.code == "NODE_OUTPUT_TOO_LARGE")
        try await fixture.stop()
    }

    @Test func aTenantLowersTheStateCapAndTheStepPastItFailsWithoutACheckpoint() async throws {
        let fixture = try await ExecutionFixture.start()
        let tenant = uniqueTenant("state")
        fixture.control.setTenantSettings(tenant, settings { $0.maxRunStateBytes = 4096 })
        let metadata = try await builder(tenant)
        let events = try await run(fixture, draftRequest(Self.appending), metadata)
        let error = try #require(events.last?.runFailed?.error)
        #expect(error.code == "STATE_TOO_LARGE")
        #expect(error.nodeID == "add")
        let runID = try #require(events.first?.runID)
        let states = try await checkpointStates(fixture, runID, metadata)
        #expect(!states.isEmpty)
        for state in states { #expect(state.encodedSize() <= 4096) }
        try await fixture.stop()
    }

    @Test func aTenantCannotRaiseACapPastThePlatformsMaximum() async throws {
        let fixture = try await ExecutionFixture.start(["EXECUTION_MAX_NODE_OUTPUT_BYTES": "4096"])
        let tenant = uniqueTenant("raise")
        fixture.control.setTenantSettings(tenant, settings { $0.maxNodeOutputBytes = 100 << 20 })
        let metadata = try await builder(tenant)
        let events = try await run(fixture, draftRequest(Self.doubling), metadata)
        #expect(events.last?.runFailed?.error?.code == "NODE_OUTPUT_TOO_LARGE")
        let runID = try #require(events.first?.runID)
        for state in try await checkpointStates(fixture, runID, metadata) {
            #expect((state["s"]?.stringValue?.utf8.count ?? 0) <= 4096)
        }
        // At the limit: an output of exactly 4096 bytes (4094 characters and quotes) passes.
        #expect(try await run(fixture, draftRequest(Self.writer(4094)), metadata).last.map(kind) == "run_finished")
        #expect(
            try await run(fixture, draftRequest(Self.writer(4095)), metadata).last?.runFailed?.error?.code
                == "NODE_OUTPUT_TOO_LARGE")
        try await fixture.stop()
    }

    @Test func anEventOverTheCapIsNeverStoredOrSentAndFailsTheRunNamingItsNode() async throws {
        let fixture = try await ExecutionFixture.start()
        let tenant = uniqueTenant("event")
        fixture.control.setTenantSettings(tenant, settings { $0.maxEventBytes = 2048 })
        let metadata = try await builder(tenant)
        // A 3000-byte output is within the node-output cap, but its node_finished event is not.
        let events = try await run(fixture, draftRequest(Self.writer(3000)), metadata)
        let error = try #require(events.last?.runFailed?.error, "\(events.map(kind))")
        #expect(error.code == "EVENT_TOO_LARGE")
        #expect(error.nodeID == "w")
        #expect(events.allSatisfy { $0.serializedBytes().count <= 2048 })
        #expect(!events.contains { $0.nodeFinished != nil })
        let runID = try #require(events.first?.runID)
        let stored = try await stored(fixture, runID, metadata)
        #expect(stored.map(\.sequence) == events.map(\.sequence))
        #expect(stored.allSatisfy { $0.serializedBytes().count <= 2048 })
        // Well under the cap, the same flow runs.
        #expect(try await run(fixture, draftRequest(Self.writer(500)), metadata).last.map(kind) == "run_finished")
        try await fixture.stop()
    }

    // MARK: Steps and time

    @Test func theTenantsStepAndTimeLimitsAreEnforcedWhateverTheRequestAsks() async throws {
        let fixture = try await ExecutionFixture.start()
        let tenant = uniqueTenant("tenant-limits")
        fixture.control.setTenantSettings(
            tenant,
            settings {
                $0.maxRunSteps = 3
                $0.maxRunDuration = Google_Protobuf_Duration(.milliseconds(300))
            })
        let metadata = try await builder(tenant)
        var asking = draftRequest(Flows.counter(5))
        var options = Agentplane_V1_RunOptions()
        options.maxSteps = 1000
        options.timeout = Google_Protobuf_Duration(.seconds(3600))
        asking.options = options
        for request in [asking, draftRequest(Flows.counter(5))] {
            let error = try #require(try await run(fixture, request, metadata).last?.runFailed?.error)
            #expect(error.code == "MAX_STEPS_EXCEEDED")
            #expect(error.message.contains("exceeded 3 node executions"))
        }
        #expect(try await run(fixture, draftRequest(Flows.counter(3)), metadata).last.map(kind) == "run_finished")
        var slow = draftRequest(Flows.slow(delayMilliseconds: 10_000))
        slow.options = options
        let started = ContinuousClock.now
        #expect(try await run(fixture, slow, metadata).last?.runFailed?.error?.code == "TIMEOUT")
        #expect(ContinuousClock.now - started < .seconds(5))
        try await fixture.stop()
    }

    @Test func thePlatformsStepMaximumCapsRequestsAndTenants() async throws {
        let fixture = try await ExecutionFixture.start(["EXECUTION_MAX_STEPS_LIMIT": "4"])
        let tenant = uniqueTenant("platform-steps")
        fixture.control.setTenantSettings(tenant, settings { $0.maxRunSteps = 1000 })
        let metadata = try await builder(tenant)
        var request = draftRequest(Flows.counter(5))
        var options = Agentplane_V1_RunOptions()
        options.maxSteps = Int32.max
        request.options = options
        #expect(
            try await run(fixture, request, metadata).last?.runFailed?.error?.message.contains("exceeded 4 node")
                == true)
        request.source = .draftFlowJSON(Flows.counter(4))
        #expect(try await run(fixture, request, metadata).last.map(kind) == "run_finished")
        try await fixture.stop()
    }

    @Test func hugeTimeoutsAndSequenceNumbersAreAnsweredNotTrapped() async throws {
        let fixture = try await ExecutionFixture.start()
        let metadata = try await builder(uniqueTenant("huge"))
        var request = draftRequest(Flows.counter(1))
        var options = Agentplane_V1_RunOptions()
        options.timeout = Google_Protobuf_Duration(seconds: Int64.max, nanos: 999_999_999)
        options.maxSteps = Int32.max
        request.options = options
        let events = try await run(fixture, request, metadata)
        #expect(events.last.map(kind) == "run_finished")
        let runID = try #require(events.first?.runID)
        var negative = request
        negative.options?.timeout = Google_Protobuf_Duration(seconds: -Int64.max, nanos: -999_999_999)
        #expect(await statusCode { try await run(fixture, negative, metadata) } == .invalidArgument)

        for after in [Int64.max, Int64.max - 1, Int64(events.count)] {
            var watch = Agentplane_V1_WatchRunRequest()
            watch.runID = runID
            watch.afterSequence = after
            let watched = try await collect {
                try await fixture.client.watchRun(watch, metadata: metadata, onResponse: $0)
            }
            #expect(watched.isEmpty, "after \(after)")
        }
        var watch = Agentplane_V1_WatchRunRequest()
        watch.runID = runID
        watch.afterSequence = Int64.min
        #expect(
            await statusCode {
                try await collect { try await fixture.client.watchRun(watch, metadata: metadata, onResponse: $0) }
            } == .invalidArgument)
        // Still serving.
        var get = Agentplane_V1_GetRunRequest()
        get.runID = runID
        #expect(try await fixture.client.getRun(get, metadata: metadata).run?.status == .succeeded)
        try await fixture.stop()
    }

    @Test func theTenantsSettingsAreReadOncePerIntervalNotPerRun() async throws {
        let fixture = try await ExecutionFixture.start()
        let metadata = try await builder(uniqueTenant("cached"))
        for _ in 0..<4 {
            #expect(try await run(fixture, draftRequest(Flows.counter(2)), metadata).last.map(kind) == "run_finished")
        }
        #expect(fixture.control.getTenantCalls == 1)
        try await fixture.stop()
    }

    // MARK: Conversations

    @Test func aRunMayOnlyBeAttachedToAConversationItsCallerMayWriteTo() async throws {
        let fixture = try await ExecutionFixture.start()
        let tenant = uniqueTenant("conversations")
        fixture.control.addConversation("c-own", tenant: tenant, createdBy: "builder-1")
        fixture.control.addConversation("c-other", tenant: tenant, createdBy: "builder-2")
        fixture.control.addConversation("c-foreign", tenant: uniqueTenant("elsewhere"), createdBy: "builder-1")
        let builderOne = try await builder(tenant, user: "builder-1")
        for conversation in ["c-other", "c-missing", "c-foreign"] {
            #expect(
                await statusCode {
                    try await run(fixture, draftRequest(Flows.counter(1), conversation: conversation), builderOne)
                } == .notFound, "\(conversation)")
        }
        // Nothing was started on the refused conversations.
        var list = Agentplane_V1_ListRunsRequest()
        list.conversationID = "c-other"
        let admin = try await bearer(role: .admin, tenant: tenant, user: "admin-1")
        #expect(try await fixture.client.listRuns(list, metadata: admin).runs.isEmpty)

        let own = try await run(fixture, draftRequest(Flows.counter(1), conversation: "c-own"), builderOne)
        #expect(own.last.map(kind) == "run_finished")
        // Admins may use any conversation of their tenant; the control plane's service token is trusted.
        let byAdmin = try await run(fixture, draftRequest(Flows.counter(1), conversation: "c-other"), admin)
        #expect(byAdmin.last.map(kind) == "run_finished")
        let relayed = try await serviceBearer(tenant: tenant, actingUser: "builder-2")
        let byControl = try await run(fixture, draftRequest(Flows.counter(1), conversation: "c-other"), relayed)
        #expect(byControl.last.map(kind) == "run_finished")
        // A replay keeps its run's conversation: checked the same way.
        var replay = Agentplane_V1_ReplayRunRequest()
        replay.runID = try #require(own.first?.runID)
        var checkpoints = Agentplane_V1_ListCheckpointsRequest()
        checkpoints.runID = replay.runID
        replay.checkpointID = try #require(
            try await fixture.client.listCheckpoints(checkpoints, metadata: builderOne).checkpoints.first?.id)
        let replayed = try await collect {
            try await fixture.client.replayRun(replay, metadata: builderOne, onResponse: $0)
        }
        #expect(replayed.last.map(kind) == "run_finished")
        // When the control plane cannot say, nothing runs.
        fixture.control.setUnavailable(true)
        #expect(
            await statusCode {
                try await run(fixture, draftRequest(Flows.counter(1), conversation: "c-own"), builderOne)
            } == .unavailable)
        try await fixture.stop()
    }
}
