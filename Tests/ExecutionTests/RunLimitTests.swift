import Foundation
import RPCCore
import RPCModels
import ServiceTestSupport
import Testing

@Suite("Execution: limits, conversations and the LLM gateway")
struct RunLimitTests {
    @Test func llmNodesStreamThroughTheGatewayWhenItIsConfigured() async throws {
        let control = try await FakeControlPlane.start()
        let fixture = try await ExecutionFixture.start(["LLM_GATEWAY_ADDR": control.address], control: control)
        let metadata = try await builder(uniqueTenant("gateway"))
        let events = try await collect {
            try await fixture.client.execute(draftRequest(Flows.multiStep), metadata: metadata, onResponse: $0)
        }
        let runID = try #require(events.first?.runID)
        // The gateway's two deltas, joined into one when they reach the pump together.
        let deltas = events.compactMap(\.answerDelta?.text)
        #expect(deltas.joined() == "Gateway answer.")
        #expect((1...2).contains(deltas.count))
        let finished = try #require(events.last?.runFinished)
        #expect(finished.answer == "Gateway answer.")
        #expect(finished.usage?.promptTokens == 7)
        #expect(finished.usage?.totalTokens == 9)
        let chat = try #require(control.chatRequests.last)
        #expect(chat.runID == runID)
        #expect(chat.messages.last?.content == "Answer the question: hello")
        try await fixture.stop()
    }

    @Test func aRunWaitingForInputTooLongFailsWithInputExpired() async throws {
        let fixture = try await ExecutionFixture.start(["EXECUTION_INPUT_TTL": "300ms"])
        let metadata = try await builder(uniqueTenant("expired"))
        let paused = try await collect {
            try await fixture.client.execute(draftRequest(Flows.approval), metadata: metadata, onResponse: $0)
        }
        let interrupt = try #require(paused.last?.interrupt)
        try await Task.sleep(for: .milliseconds(600))
        var get = Agentplane_V1_GetRunRequest()
        get.runID = try #require(paused.first?.runID)
        let run = try #require(try await fixture.client.getRun(get, metadata: metadata).run)
        #expect(run.status == .failed)
        #expect(run.error?.code == "INPUT_EXPIRED")
        var resume = Agentplane_V1_ResumeRequest()
        resume.runID = get.runID
        var input = Agentplane_V1_HumanInput()
        input.interruptID = interrupt.interruptID
        input.text = "yes"
        resume.input = input
        #expect(
            await statusCode {
                try await collect { try await fixture.client.resume(resume, metadata: metadata, onResponse: $0) }
            } == .failedPrecondition)
        try await fixture.stop()
    }

    @Test func theRunDeadlineFailsARunWithTimeout() async throws {
        let fixture = try await ExecutionFixture.start()
        let metadata = try await builder(uniqueTenant("deadline"))
        var request = draftRequest(Flows.slow(delayMilliseconds: 10_000))
        var options = Agentplane_V1_RunOptions()
        options.timeout = Google_Protobuf_Duration(.milliseconds(300))
        request.options = options
        let started = ContinuousClock.now
        let events = try await collect { try await fixture.client.execute(request, metadata: metadata, onResponse: $0) }
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(events.last?.runFailed?.error?.code == "TIMEOUT")
        try await fixture.stop()
    }

    @Test func aConversationHasOneActiveRunAndTenantsHaveARunLimit() async throws {
        let fixture = try await ExecutionFixture.start(["EXECUTION_MAX_CONCURRENT_RUNS": "1"])
        let tenant = uniqueTenant("limits")
        let metadata = try await builder(tenant)
        fixture.control.addConversation("conv-busy", tenant: tenant, createdBy: "builder-1")
        let client = fixture.client
        let slow = Task {
            try await collect {
                try await client.execute(
                    draftRequest(Flows.slow(delayMilliseconds: 1500), conversation: "conv-busy"), metadata: metadata,
                    onResponse: $0)
            }
        }
        for _ in 0..<200 where !fixture.control.toolCalls.contains(where: { $0.tool == "slow" }) {
            try await Task.sleep(for: .milliseconds(25))
        }
        // The same conversation: ABORTED; another run of the tenant: over the limit of 1.
        #expect(
            await statusCode {
                try await collect {
                    try await client.execute(
                        draftRequest(Flows.counter(1), conversation: "conv-busy"), metadata: metadata, onResponse: $0)
                }
            } == .aborted)
        #expect(
            await statusCode {
                try await collect {
                    try await client.execute(draftRequest(Flows.counter(1)), metadata: metadata, onResponse: $0)
                }
            } == .resourceExhausted)
        #expect(try await slow.value.last.map(kind) == "run_finished")
        // Once it ended, the conversation takes a new run.
        let next = try await collect {
            try await client.execute(
                draftRequest(Flows.counter(1), conversation: "conv-busy"), metadata: metadata, onResponse: $0)
        }
        #expect(next.last.map(kind) == "run_finished")
        try await fixture.stop()
    }
}
