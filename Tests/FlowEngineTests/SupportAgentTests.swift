import FlowEngine
import Foundation
import Testing

/// The examples/support-agent.flow.json flow with fake kb_search, ticketing and notification tools.
@Suite("Support agent example")
struct SupportAgentTests {
    static let articles: [(String, String)] = [
        (
            "Resetting your password",
            "To reset your password, open Settings and choose Reset password. "
                + "A reset link is sent to your email address."
        ),
        ("Invoices", "Invoices are emailed on the first day of every month."),
    ]

    /// A keyword knowledge base: the score is the share of the query's words found in the article.
    static func kbSearch(_ invocation: ToolInvocation, _ attempt: Int) async throws -> JSONValue {
        let query = (invocation.arguments["query"]?.stringValue ?? "").lowercased()
        let words = query.split { !$0.isLetter }.map(String.init).filter { $0.count > 3 }
        let scored = articles.map { title, text in
            let hits = words.filter { text.lowercased().contains($0) }.count
            return (title, text, words.isEmpty ? 0 : Double(hits) / Double(words.count))
        }.filter { $0.2 > 0 }.sorted { $0.2 > $1.2 }
        return .object([
            "top_score": scored.first.map { .number($0.2) } ?? .null,
            "results": .array(
                scored.map { .object(["title": .string($0.0), "text": .string($0.1), "score": .number($0.2)]) }),
        ])
    }

    func runner(_ tools: FakeTools, log: EventLog) throws -> FlowRunner {
        let validation = FlowValidator.validate(data: try Data(contentsOf: exampleURL("support-agent.flow.json")))
        let flow = try #require(validation.flow)
        return FlowRunner(
            flow: flow, model: BuiltinModelClient(), tools: tools, checkpointer: InMemoryCheckpointer(),
            onEvent: log.handler)
    }

    func tools() -> FakeTools {
        FakeTools([
            "kb_search": Self.kbSearch,
            // The shape of the control plane's ticketing tool result (docs/CONTROL.md, Tools).
            "ticketing": { _, _ in
                .object(["ticket": .object(["id": .string("t-1"), "number": .number(4711)]), "replayed": .bool(false)])
            },
            "notification": { _, _ in .object(["delivered": .bool(true)]) },
        ])
    }

    @Test func answersFromTheKnowledgeBase() async throws {
        let tools = tools()
        let log = EventLog()
        let outcome = try await runner(tools, log: log).start(runID: "sa-kb", input: "How do I reset my password?")
        let answer = try #require(outcome.answer)
        #expect(answer.hasPrefix("[builtin model] To reset your password, open Settings and choose Reset password."))
        #expect(log.startedNodes == ["kb_lookup", "kb_helpful", "answer_from_kb", "done"])
        #expect(tools.invocations.map(\.tool) == ["kb_search"])
        #expect(tools.invocations[0].arguments["query"] == .string("How do I reset my password?"))
    }

    @Test func createsATicketWhenTheKnowledgeBaseCannotHelp() async throws {
        let tools = tools()
        let log = EventLog()
        let question = "My printer makes strange noises on Tuesdays"
        let outcome = try await runner(tools, log: log).start(runID: "sa-ticket", input: question)
        #expect(
            outcome.answer == "I created ticket #4711 for you. Our support team will get back to you soon.")
        #expect(
            log.startedNodes == [
                "kb_lookup", "kb_helpful", "create_ticket", "notify_support", "reply_with_ticket", "done",
            ])
        #expect(tools.invocations.map(\.tool) == ["kb_search", "ticketing", "notification"])
        #expect(tools.invocations[1].arguments["title"] == .string("Customer question: \(question)"))
        #expect(tools.invocations[2].arguments["text"] == .string("New ticket #4711: \(question)"))
        #expect(tools.invocations[1].idempotencyKey == "sa-ticket:3:create_ticket")
    }
}
