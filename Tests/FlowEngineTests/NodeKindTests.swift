import FlowEngine
import Foundation
import Synchronization
import Testing

@Suite("Node kinds")
struct NodeKindTests {
    @Test func setAndEndRenderTemplates() async throws {
        let flow = try compile(
            #"""
            {"entry": "s", "state": {"user": {"type": "object"}, "n": {"type": "number"}, "copy": {"type": "object"}},
             "nodes": [
               {"id": "s", "kind": "set", "values": {"n": 3, "user": {"name": "{{input}}", "tags": ["a", "{{input}}"]}},
                "next": "c"},
               {"id": "c", "kind": "set", "values": {"copy": "{{state.user}}"}, "next": "e"},
               {"id": "e", "kind": "end",
                "answer": "Hi {{state.user.name}}, n={{state.n}}, tag={{state.user.tags.1}}"}]}
            """#)
        let outcome = await FlowRunner(flow: flow, model: BuiltinModelClient(), tools: noTools)
            .start(runID: "run-set", input: "Ann")
        #expect(outcome.answer == "Hi Ann, n=3, tag=Ann")
        let user = JSONValue.object(["name": .string("Ann"), "tags": .array([.string("a"), .string("Ann")])])
        #expect(outcome.state?["copy"] == user)
    }

    @Test func llmNodeStreamsTheBuiltinAnswer() async throws {
        let flow = try compile(
            #"""
            {"entry": "l", "nodes": [
              {"id": "l", "kind": "llm", "system": "Passwords are reset under Settings. Invoices are monthly.",
               "prompt": "How do I reset my password?", "output": "answer"}]}
            """#)
        let log = EventLog()
        let outcome = await FlowRunner(flow: flow, model: BuiltinModelClient(), tools: noTools, onEvent: log.handler)
            .start(runID: "run-llm", input: "")
        #expect(outcome.answer == "[builtin model] Passwords are reset under Settings.")
        let deltas = log.all.compactMap { if case .answerDelta(_, let text) = $0.payload { text } else { nil } }
        #expect(deltas.count > 1)
        #expect(deltas.joined() == outcome.answer)
        guard case .runFinished(_, _, let usage, _)? = log.all.last?.payload else {
            Issue.record("no runFinished event")
            return
        }
        #expect(usage.promptTokens > 0 && usage.completionTokens > 0)
    }

    @Test func toolNodeSendsTemplatedArgumentsAndStoresTheResult() async throws {
        let flow = try compile(
            #"""
            {"entry": "t", "state": {"limit": {"type": "number", "default": 5}, "out": {"type": "object"}},
             "nodes": [{"id": "t", "kind": "tool", "tool": "search",
                        "arguments": {"query": "about {{input}}", "top_k": "{{state.limit}}", "fixed": true},
                        "output": "out", "next": "e"},
                       {"id": "e", "kind": "end", "answer": "{{state.out.echo}}"}]}
            """#)
        let tools = FakeTools(["search": { invocation, _ in .object(["echo": invocation.arguments["query"]!]) }])
        let log = EventLog()
        let outcome = await FlowRunner(flow: flow, model: BuiltinModelClient(), tools: tools, onEvent: log.handler)
            .start(runID: "run-tool", input: "cats")
        #expect(outcome.answer == "about cats")
        let call = try #require(tools.invocations.first)
        #expect(call.arguments == .object(["query": .string("about cats"), "top_k": .number(5), "fixed": .bool(true)]))
        #expect(call.idempotencyKey == "run-tool:1:t")
        let kinds = log.all.map { "\($0.payload)".prefix(while: { $0 != "(" }) }
        #expect(kinds.contains("toolCall") && kinds.contains("toolResult"))
    }

    @Test func toolErrorsCanContinue() async throws {
        let flow = try compile(
            #"""
            {"entry": "t", "state": {"out": {"type": "object"}},
             "nodes": [{"id": "t", "kind": "tool", "tool": "broken", "output": "out", "on_error": "continue",
                        "next": "e"},
                       {"id": "e", "kind": "end", "answer": "{{state.out.error.message}}"}]}
            """#)
        let tools = FakeTools(["broken": { _, _ in throw NodeError(.toolFailed, "backend said no") }])
        let outcome = await FlowRunner(flow: flow, model: BuiltinModelClient(), tools: tools)
            .start(runID: "run-continue", input: "")
        #expect(outcome.answer == "backend said no")
    }

    @Test func llmRouterFollowsTheBuiltinOverlapRule() async throws {
        let flow = try compile(
            #"""
            {"entry": "pick", "state": {"choice": {"type": "string"}},
             "nodes": [
               {"id": "pick", "kind": "llm_router", "output": "choice", "options": [
                  {"name": "general", "description": "anything else", "to": "g"},
                  {"name": "billing", "description": "invoice, payment or refund questions", "to": "b"},
                  {"name": "technical", "description": "errors, crashes and login problems", "to": "t"}]},
               {"id": "g", "kind": "end", "answer": "general"},
               {"id": "b", "kind": "end", "answer": "billing"},
               {"id": "t", "kind": "end", "answer": "technical"}]}
            """#)
        let runner = FlowRunner(flow: flow, model: BuiltinModelClient(), tools: noTools)
        #expect(await runner.start(runID: "r1", input: "I want a refund for my last invoice").answer == "billing")
        #expect(await runner.start(runID: "r2", input: "The app crashes with errors at login").answer == "technical")
        // No overlap with any option: a tie, so the first option wins.
        let tie = await runner.start(runID: "r3", input: "Hello there")
        #expect(tie.answer == "general")
        #expect(tie.state?["choice"] == .string("general"))
    }

    @Test func humanInputPausesAndResumes() async throws {
        let flow = try compile(
            #"""
            {"entry": "ask", "state": {"reply": {"type": "string"}},
             "nodes": [{"id": "ask", "kind": "human_input", "prompt": "Approve {{input}}?", "choices": ["yes", "no"],
                        "output": "reply", "next": "e"},
                       {"id": "e", "kind": "end", "answer": "answer: {{state.reply}}"}]}
            """#)
        let store = InMemoryCheckpointer()
        let log = EventLog()
        let runner = FlowRunner(
            flow: flow, model: BuiltinModelClient(), tools: noTools, checkpointer: store, onEvent: log.handler)
        let paused = await runner.start(runID: "run-ask", input: "refund")
        let interrupt = try #require(paused.interrupts.first)
        #expect(interrupt.prompt == "Approve refund?")
        #expect(interrupt.choices == ["yes", "no"])
        await #expect(throws: ResumeError.staleInterrupt) {
            try await runner.resume(runID: "run-ask", input: HumanInput(interruptID: "other", text: "yes"))
        }
        await #expect(throws: ResumeError.invalidChoice(["yes", "no"])) {
            try await runner.resume(runID: "run-ask", input: HumanInput(interruptID: interrupt.interruptID, text: "ok"))
        }
        await #expect(throws: ResumeError.inputRequired) { try await runner.resume(runID: "run-ask") }
        let done = try await runner.resume(
            runID: "run-ask", input: HumanInput(interruptID: interrupt.interruptID, text: "yes"))
        #expect(done.answer == "answer: yes")
        #expect(log.sequences == Array(1...Int64(log.sequences.count)))
        await #expect(throws: ResumeError.notWaiting) { try await runner.resume(runID: "run-ask") }
    }
}

/// A model that fails `failures` times with `kind`, then answers "fine".
final class FailingModel: ModelClient {
    let failures: Int
    let kind: NodeErrorKind
    let calls = Mutex(0)

    init(failures: Int, kind: NodeErrorKind) {
        self.failures = failures
        self.kind = kind
    }

    func chat(_ request: ChatRequest, onDelta: @escaping @Sendable (String) -> Void) async throws -> ChatResult {
        let call = calls.withLock {
            $0 += 1
            return $0
        }
        if call <= failures { throw NodeError(kind, "gateway says \(kind.rawValue)") }
        onDelta("fine")
        return ChatResult(text: "fine")
    }
}

@Suite("Model failures")
struct ModelFailureTests {
    static let flow = #"""
        {"entry": "l", "nodes": [{"id": "l", "kind": "llm", "prompt": "{{input}}", "output": "answer",
                                  "retry": {"max_attempts": 2, "initial_backoff_ms": 1}}]}
        """#

    @Test func unavailableModelsAreRetriedThenReported() async throws {
        let flow = try compile(Self.flow)
        let flaky = FailingModel(failures: 1, kind: .unavailable)
        #expect(
            await FlowRunner(flow: flow, model: flaky, tools: noTools).start(runID: "m1", input: "").answer == "fine")
        let down = FailingModel(failures: 5, kind: .unavailable)
        let failed = await FlowRunner(flow: flow, model: down, tools: noTools).start(runID: "m2", input: "")
        #expect(failed.error?.code == "LLM_UNAVAILABLE")
        #expect(failed.error?.retryable == true)
        #expect(down.calls.withLock { $0 } == 2)
        let refused = FailingModel(failures: 5, kind: .modelFailed)
        let failedOnce = await FlowRunner(flow: flow, model: refused, tools: noTools).start(runID: "m3", input: "")
        #expect(failedOnce.error?.code == "LLM_FAILED")
        #expect(refused.calls.withLock { $0 } == 1)
    }
}
