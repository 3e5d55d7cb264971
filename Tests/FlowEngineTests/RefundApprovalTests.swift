import FlowEngine
import Foundation
import Testing

/// The examples/refund-approval.flow.json flow: llm_router, a parallel branch with human input, a join.
@Suite("Refund approval example")
struct RefundApprovalTests {
    func runner(_ tools: FakeTools, _ store: InMemoryCheckpointer) throws -> FlowRunner {
        let flow = try #require(
            FlowValidator.validate(data: try Data(contentsOf: exampleURL("refund-approval.flow.json"))).flow)
        return FlowRunner(flow: flow, model: BuiltinModelClient(), tools: tools, checkpointer: store)
    }

    @Test func refundWaitsForApprovalWhileTheOrderIsLookedUp() async throws {
        let tools = FakeTools(["order_lookup": { _, _ in .object(["id": .string("A-12")]) }])
        let runner = try runner(tools, InMemoryCheckpointer())
        let paused = await runner.start(runID: "refund-1", input: "Please refund my payment for order 12")
        let interrupt = try #require(paused.interrupts.first)
        #expect(interrupt.choices == ["approve", "reject"])
        #expect(tools.invocations.count == 1)
        let done = try await runner.resume(
            runID: "refund-1", input: HumanInput(interruptID: interrupt.interruptID, text: "approve"))
        #expect(done.answer == "Your refund for order A-12 was approved.")
        #expect(done.state?["topic"] == .string("refund"))
        #expect(done.state?["history"] == .array([.string("refund requested")]))
        #expect(tools.invocations.count == 1)
    }

    @Test func otherQuestionsGoToTheModel() async throws {
        let runner = try runner(FakeTools([:]), InMemoryCheckpointer())
        let outcome = await runner.start(runID: "refund-2", input: "What are your opening hours?")
        #expect(outcome.state?["topic"] == .string("other"))
        #expect(outcome.answer?.hasPrefix("[builtin model] ") == true)
    }
}
