import Foundation
import RPCCore
import RPCModels
import Runtime
import ServiceTestSupport
import Testing

@Suite("Execution: Execute, Resume, CancelRun, roles and tenants")
struct ExecuteTests {
    @Test func aStoredAgentRunsWithEventsToolKeysAndTheAnswerSaved() async throws {
        let fixture = try await ExecutionFixture.start()
        let tenant = uniqueTenant("exec")
        fixture.control.addAgent("agent-multi", version: 2, flow: Flows.multiStep)
        var request = Agentplane_V1_ExecuteRequest()
        var ref = Agentplane_V1_AgentRef()
        ref.agentID = "agent-multi"
        request.source = .agent(ref)
        request.input = "How do I reset my password?"
        request.conversationID = "conv-1"
        let metadata = try await serviceBearer(tenant: tenant, actingUser: "user-7")
        let events = try await collect { try await fixture.client.execute(request, metadata: metadata, onResponse: $0) }

        let kinds = events.map(kind)
        #expect(kinds.first == "run_started")
        #expect(kinds.last == "run_finished")
        #expect(events.map(\.sequence) == Array(1...Int64(events.count)))
        let runID = try #require(events.first?.runID)
        #expect(events.allSatisfy { $0.runID == runID })
        #expect(events.first?.runStarted?.agentVersion == 2)
        let expectedOrder = [
            "node_started:prepare", "node_finished:prepare", "node_started:lookup", "tool_call", "tool_result",
            "node_finished:lookup", "node_started:write", "node_finished:write", "node_started:done",
            "node_finished:done",
        ]
        #expect(kinds.filter { $0 != "answer_delta" && $0 != "run_started" && $0 != "run_finished" } == expectedOrder)
        #expect(kinds.contains("answer_delta"))
        let finished = try #require(events.last?.runFinished)

        // The tool went through the control plane with the engine's idempotency key and credentials.
        let call = try #require(events.first { $0.toolCall != nil }?.toolCall)
        #expect(call.callID == "\(runID):2:lookup")
        let received = fixture.control.toolCalls.filter { $0.runID == runID }
        #expect(received.count == 1)
        #expect(received.first?.key == "\(runID):2:lookup")
        #expect(received.first?.hadCredentials == true)
        #expect(received.first?.tokenTenant == tenant)
        #expect(received.first?.tokenActingUser == "user-7")

        // The answer was saved through AppendMessage, once, and its id is in run_finished.
        let saved = try #require(fixture.control.messages["\(runID):assistant:1"])
        #expect(saved.content == finished.answer)
        #expect(saved.conversationID == "conv-1")
        #expect(saved.role == .assistant)
        #expect(finished.messageID == saved.id)
        #expect(finished.messageCreatedAt == saved.createdAt && saved.createdAt != nil)
        #expect(!finished.answer.isEmpty)

        var get = Agentplane_V1_GetRunRequest()
        get.runID = runID
        get.includeState = true
        let run = try #require(try await fixture.client.getRun(get, metadata: metadata).run)
        #expect(run.status == .succeeded)
        #expect(run.answer == finished.answer)
        #expect(run.stepCount == 4)
        #expect(run.lastSequence == Int64(events.count))
        #expect(run.startedBy == "user-7")
        #expect(run.agentID == "agent-multi")
        #expect(run.state?.fields["topic"]?.stringValue == "How do I reset my password?")
        #expect(run.finishedAt != nil)
        try await fixture.stop()
    }

    @Test("run_id and resolved_agent: the control plane's only; the run takes the id once; no GetAgent call")
    func theControlPlaneNamesTheRunAndHandsOverTheAgent() async throws {
        let fixture = try await ExecutionFixture.start()
        let tenant = uniqueTenant("named")
        fixture.control.addAgent("agent-multi", version: 2, flow: Flows.multiStep)
        let service = try await serviceBearer(tenant: tenant, actingUser: "user-7")
        var resolved = Agentplane_V1_GetAgentResponse()
        var agent = Agentplane_V1_Agent()
        agent.id = "agent-multi"
        agent.version = 2
        agent.flowJSON = Flows.multiStep
        resolved.agent = agent
        var request = Agentplane_V1_ExecuteRequest()
        var ref = Agentplane_V1_AgentRef()
        ref.agentID = "agent-multi"
        request.source = .agent(ref)
        request.input = "How do I reset my password?"
        request.runID = UUID().uuidString.lowercased()
        request.resolvedAgent = resolved

        // A user may set neither field.
        for field in ["run_id", "resolved_agent"] {
            var userRequest = request
            if field == "run_id" { userRequest.resolvedAgent = nil } else { userRequest.runID = "" }
            let refused = await statusCode {
                _ = try await collect {
                    try await fixture.client.execute(userRequest, metadata: try await builder(tenant), onResponse: $0)
                }
            }
            #expect(refused == .invalidArgument, "\(field) from a builder")
        }
        // Not a lowercase UUID: SQL, an embedded NUL, upper case, 64 KiB, empty braces.
        let uuid = UUID().uuidString
        for bad in [
            "run-1; DROP TABLE", uuid.lowercased() + "\u{0}", uuid, String(repeating: "a", count: 65536), "{}",
        ] {
            var notUUID = request
            notUUID.runID = bad
            #expect(
                await statusCode {
                    _ = try await collect {
                        try await fixture.client.execute(notUUID, metadata: service, onResponse: $0)
                    }
                } == .invalidArgument, "run_id \(bad.prefix(40))")
        }
        var otherAgent = request
        otherAgent.resolvedAgent?.agent?.id = "agent-other"
        #expect(
            await statusCode {
                _ = try await collect {
                    try await fixture.client.execute(otherAgent, metadata: service, onResponse: $0)
                }
            } == .invalidArgument)

        let loadsBefore = fixture.control.includeToolsAsked.count
        let events = try await collect { try await fixture.client.execute(request, metadata: service, onResponse: $0) }
        #expect(events.first?.runID == request.runID && events.last?.runFinished != nil)
        #expect(events.first?.runStarted?.agentVersion == 2)
        #expect(fixture.control.includeToolsAsked.count == loadsBefore, "the agent was loaded again")
        // The same id again (a retried call): refused, and the run stays as it ended.
        #expect(
            await statusCode {
                _ = try await collect { try await fixture.client.execute(request, metadata: service, onResponse: $0) }
            } == .alreadyExists)
        var get = Agentplane_V1_GetRunRequest()
        get.runID = request.runID
        #expect(try await fixture.client.getRun(get, metadata: service).run?.status == .succeeded)
        try await fixture.stop()
    }

    @Test func invalidFlowsAndMissingAgentsAreRejected() async throws {
        let fixture = try await ExecutionFixture.start()
        let tenant = uniqueTenant("invalid")
        let metadata = try await builder(tenant)
        let draft = draftRequest(#"{"entry": "nowhere", "nodes": [{"id": "a", "kind": "teleport"}]}"#)
        do {
            _ = try await collect { try await fixture.client.execute(draft, metadata: metadata, onResponse: $0) }
            Issue.record("an invalid draft was accepted")
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument)
            let details = try #require(error.details)
            #expect(details.reason == "FLOW_INVALID")
            #expect(details.violations.count >= 2)
            #expect(details.violations.contains { $0.code == "UNKNOWN_NODE_KIND" })
            #expect(details.violations.contains { $0.code == "DANGLING_EDGE" || $0.code == "MISSING_ENTRY" })
        }
        let empty = Agentplane_V1_ExecuteRequest()
        #expect(
            await statusCode {
                try await collect { try await fixture.client.execute(empty, metadata: metadata, onResponse: $0) }
            } == .invalidArgument)

        var missing = Agentplane_V1_ExecuteRequest()
        var ref = Agentplane_V1_AgentRef()
        ref.agentID = "no-such-agent"
        missing.source = .agent(ref)
        #expect(
            await statusCode {
                try await collect { try await fixture.client.execute(missing, metadata: metadata, onResponse: $0) }
            } == .notFound)

        fixture.control.addAgent("agent-broken", flow: #"{"entry": "x", "nodes": []}"#)
        ref.agentID = "agent-broken"
        missing.source = .agent(ref)
        #expect(
            await statusCode {
                try await collect { try await fixture.client.execute(missing, metadata: metadata, onResponse: $0) }
            } == .failedPrecondition)
        try await fixture.stop()
    }

    @Test func rolesAndTenantIsolation() async throws {
        let fixture = try await ExecutionFixture.start()
        let tenantA = uniqueTenant("a")
        let tenantB = uniqueTenant("b")
        let ownerA = try await builder(tenantA, user: "builder-a")
        let events = try await collect {
            try await fixture.client.execute(draftRequest(Flows.counter(2)), metadata: ownerA, onResponse: $0)
        }
        let runID = try #require(events.first?.runID)
        var get = Agentplane_V1_GetRunRequest()
        get.runID = runID

        // A member may not use the service at all.
        let member = try await bearer(role: .member, tenant: tenantA)
        #expect(await statusCode { try await fixture.client.getRun(get, metadata: member) } == .permissionDenied)
        #expect(
            await statusCode {
                try await collect {
                    try await fixture.client.execute(draftRequest(Flows.counter(1)), metadata: member, onResponse: $0)
                }
            } == .permissionDenied)
        #expect(await statusCode { try await fixture.client.getRun(get) } == .unauthenticated)

        // Another tenant: NOT_FOUND everywhere, and nothing in its lists.
        let other = try await bearer(role: .admin, tenant: tenantB)
        #expect(await statusCode { try await fixture.client.getRun(get, metadata: other) } == .notFound)
        var cancel = Agentplane_V1_CancelRunRequest()
        cancel.runID = runID
        #expect(await statusCode { try await fixture.client.cancelRun(cancel, metadata: other) } == .notFound)
        var checkpoints = Agentplane_V1_ListCheckpointsRequest()
        checkpoints.runID = runID
        #expect(
            await statusCode { try await fixture.client.listCheckpoints(checkpoints, metadata: other) } == .notFound)
        var watch = Agentplane_V1_WatchRunRequest()
        watch.runID = runID
        #expect(
            await statusCode {
                try await collect { try await fixture.client.watchRun(watch, metadata: other, onResponse: $0) }
            } == .notFound)
        var resume = Agentplane_V1_ResumeRequest()
        resume.runID = runID
        #expect(
            await statusCode {
                try await collect { try await fixture.client.resume(resume, metadata: other, onResponse: $0) }
            } == .notFound)
        var replay = Agentplane_V1_ReplayRunRequest()
        replay.runID = runID
        replay.checkpointID = "\(runID):1"
        #expect(
            await statusCode {
                try await collect { try await fixture.client.replayRun(replay, metadata: other, onResponse: $0) }
            } == .notFound)
        let listB = try await fixture.client.listRuns(.init(), metadata: other)
        #expect(listB.runs.isEmpty)

        // Another builder of the same tenant sees only their own runs; an admin sees all.
        let otherBuilder = try await builder(tenantA, user: "builder-z")
        #expect(await statusCode { try await fixture.client.getRun(get, metadata: otherBuilder) } == .notFound)
        #expect(try await fixture.client.listRuns(.init(), metadata: otherBuilder).runs.isEmpty)
        let admin = try await bearer(role: .admin, tenant: tenantA)
        #expect(try await fixture.client.getRun(get, metadata: admin).run?.status == .succeeded)
        let service = try await serviceBearer(tenant: tenantA)
        #expect(try await fixture.client.listRuns(.init(), metadata: service).runs.map(\.id) == [runID])
        try await fixture.stop()
    }

    @Test func listRunsPagesNewestFirst() async throws {
        let fixture = try await ExecutionFixture.start()
        let tenant = uniqueTenant("list")
        let metadata = try await builder(tenant)
        var ids: [String] = []
        for _ in 0..<3 {
            let events = try await collect {
                try await fixture.client.execute(draftRequest(Flows.counter(1)), metadata: metadata, onResponse: $0)
            }
            ids.append(try #require(events.first?.runID))
        }
        var request = Agentplane_V1_ListRunsRequest()
        request.pageSize = 2
        let first = try await fixture.client.listRuns(request, metadata: metadata)
        #expect(first.runs.count == 2)
        #expect(!first.nextPageToken.isEmpty)
        request.pageToken = first.nextPageToken
        let second = try await fixture.client.listRuns(request, metadata: metadata)
        #expect(second.nextPageToken.isEmpty)
        #expect((first.runs + second.runs).map(\.id) == ids.reversed())
        // Creation times are whole milliseconds, exactly; bounds: [created_after, created_before).
        let listed = first.runs + second.runs
        #expect(listed.allSatisfy { run in (run.createdAt?.nanos ?? 1) % 1_000_000 == 0 })
        var bounded = Agentplane_V1_ListRunsRequest()
        bounded.createdAfter = listed[1].createdAt
        #expect(try await fixture.client.listRuns(bounded, metadata: metadata).runs.map(\.id) == [ids[2], ids[1]])
        bounded.createdAfter = nil
        bounded.createdBefore = listed[1].createdAt
        #expect(try await fixture.client.listRuns(bounded, metadata: metadata).runs.map(\.id) == [ids[0]])
        bounded.createdAfter = listed[1].createdAt
        #expect(await statusCode { try await fixture.client.listRuns(bounded, metadata: metadata) } == .invalidArgument)
        bounded.createdAfter = Google_Protobuf_Timestamp(seconds: 253_402_300_800, nanos: 0)
        bounded.createdBefore = nil
        #expect(await statusCode { try await fixture.client.listRuns(bounded, metadata: metadata) } == .invalidArgument)
        request.pageSize = -1
        #expect(await statusCode { try await fixture.client.listRuns(request, metadata: metadata) } == .invalidArgument)
        request.pageSize = 2
        request.status = .failed
        #expect(await statusCode { try await fixture.client.listRuns(request, metadata: metadata) } == .invalidArgument)
        try await fixture.stop()
    }

    @Test func aHumanInputInterruptPausesAndResumeFinishes() async throws {
        let fixture = try await ExecutionFixture.start()
        let tenant = uniqueTenant("resume")
        let metadata = try await builder(tenant)
        let paused = try await collect {
            try await fixture.client.execute(
                draftRequest(Flows.approval, input: "the refund"), metadata: metadata, onResponse: $0)
        }
        let interrupt = try #require(paused.last?.interrupt)
        #expect(interrupt.prompt == "Approve the refund?")
        #expect(interrupt.choices == ["yes", "no"])
        let runID = try #require(paused.first?.runID)
        var get = Agentplane_V1_GetRunRequest()
        get.runID = runID
        let waiting = try #require(try await fixture.client.getRun(get, metadata: metadata).run)
        #expect(waiting.status == .waitingForInput)
        #expect(waiting.pendingInterrupt?.interruptID == interrupt.interruptID)

        var resume = Agentplane_V1_ResumeRequest()
        resume.runID = runID
        var input = Agentplane_V1_HumanInput()
        input.interruptID = "stale"
        input.text = "yes"
        resume.input = input
        #expect(
            await statusCode {
                try await collect { try await fixture.client.resume(resume, metadata: metadata, onResponse: $0) }
            }
                == .aborted)
        input.interruptID = interrupt.interruptID
        input.text = "maybe"
        resume.input = input
        #expect(
            await statusCode {
                try await collect { try await fixture.client.resume(resume, metadata: metadata, onResponse: $0) }
            }
                == .invalidArgument)
        input.text = "yes"
        resume.input = input
        let resumed = try await collect { try await fixture.client.resume(resume, metadata: metadata, onResponse: $0) }
        #expect(resumed.first.map(kind) == "run_resumed")
        #expect(resumed.first?.sequence == (paused.last?.sequence ?? 0) + 1)
        let expectedSequences: [Int64] = (0..<resumed.count).map { Int64(paused.count + 1 + $0) }
        #expect(resumed.map(\.sequence) == expectedSequences)
        #expect(resumed.last?.runFinished?.answer == "decided yes")
        #expect(try await fixture.client.getRun(get, metadata: metadata).run?.status == .succeeded)
        #expect(
            await statusCode {
                try await collect { try await fixture.client.resume(resume, metadata: metadata, onResponse: $0) }
            }
                == .failedPrecondition)
        try await fixture.stop()
    }

    @Test func cancelRunStopsARunBlockedInASlowTool() async throws {
        let fixture = try await ExecutionFixture.start()
        let tenant = uniqueTenant("cancel")
        let metadata = try await builder(tenant)
        let client = fixture.client
        let started = ContinuousClock.now
        let running = Task {
            try await collect {
                try await client.execute(
                    draftRequest(Flows.slow(delayMilliseconds: 20_000)), metadata: metadata, onResponse: $0)
            }
        }
        var runID: String?
        for _ in 0..<200 where runID == nil {
            runID = fixture.control.toolCalls.last { $0.tool == "slow" && $0.key.hasSuffix(":1:wait") }?.runID
            if runID == nil { try await Task.sleep(for: .milliseconds(25)) }
        }
        var cancel = Agentplane_V1_CancelRunRequest()
        cancel.runID = try #require(runID)
        cancel.reason = "changed my mind"
        let response = try await client.cancelRun(cancel, metadata: metadata)
        #expect(response.run?.status == .cancelled)
        let events = try await running.value
        #expect(ContinuousClock.now - started < .seconds(10))
        let last = try #require(events.last?.runCancelled)
        #expect(last.reason == "changed my mind")
        #expect(last.cancelledBy == "builder-1")
        #expect(await statusCode { try await client.cancelRun(cancel, metadata: metadata) } == .failedPrecondition)
        try await fixture.stop()
    }

    @Test("GetRun shows a running run's node within the progress interval, and the exact count at the end")
    func progressIsVisibleWhileANodeRuns() async throws {
        let fixture = try await ExecutionFixture.start()
        let metadata = try await builder(uniqueTenant("progress"))
        let client = fixture.client
        let running = Task {
            try await collect {
                try await client.execute(
                    draftRequest(Flows.crash(slowMilliseconds: 3000)), metadata: metadata, onResponse: $0)
            }
        }
        var runID: String?
        for _ in 0..<200 where runID == nil {
            runID = fixture.control.toolCalls.first { $0.tool == "slow" }?.runID
            if runID == nil { try await Task.sleep(for: .milliseconds(25)) }
        }
        var get = Agentplane_V1_GetRunRequest()
        get.runID = try #require(runID)
        // The slow tool runs for 3 s; its node shows well within that (the interval is 250 ms).
        let seen = ContinuousClock.now
        var run = try #require(try await client.getRun(get, metadata: metadata).run)
        while run.currentNodeID != "t2", ContinuousClock.now - seen < .milliseconds(1500) {
            try await Task.sleep(for: .milliseconds(50))
            run = try #require(try await client.getRun(get, metadata: metadata).run)
        }
        #expect(run.status == .running)
        #expect(run.currentNodeID == "t2")
        #expect(run.stepCount == 1)

        let events = try await running.value
        run = try #require(try await client.getRun(get, metadata: metadata).run)
        #expect(run.status == .succeeded)
        #expect(run.currentNodeID.isEmpty)
        #expect(run.stepCount == events.filter { $0.nodeFinished != nil }.count)
        #expect(run.lastSequence == Int64(events.count))
        try await fixture.stop()
    }

    @Test func cancelRunEndsARunWaitingForInput() async throws {
        let fixture = try await ExecutionFixture.start()
        let metadata = try await builder(uniqueTenant("cancel-paused"))
        let paused = try await collect {
            try await fixture.client.execute(draftRequest(Flows.approval), metadata: metadata, onResponse: $0)
        }
        var cancel = Agentplane_V1_CancelRunRequest()
        cancel.runID = try #require(paused.first?.runID)
        let response = try await fixture.client.cancelRun(cancel, metadata: metadata)
        #expect(response.run?.status == .cancelled)
        var watch = Agentplane_V1_WatchRunRequest()
        watch.runID = cancel.runID
        let all = try await collect { try await fixture.client.watchRun(watch, metadata: metadata, onResponse: $0) }
        #expect(all.map(kind).suffix(2) == ["interrupt", "run_cancelled"])
        #expect(all.map(\.sequence) == Array(1...Int64(all.count)))
        try await fixture.stop()
    }
}
