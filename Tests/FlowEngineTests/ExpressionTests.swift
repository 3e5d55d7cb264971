import FlowEngine
import Testing

/// The router expression language, exercised through a router node.
@Suite("Router expressions")
struct ExpressionTests {
    /// Runs a router on `condition` with `inputs` as state; true when it took the `yes` branch.
    func holds(_ condition: String, _ inputs: [String: JSONValue] = [:]) async throws -> Bool {
        let escaped = condition.replacingOccurrences(of: "\"", with: "\\\"")
        let flow = try compile(
            """
            {"entry": "r", "state": {"score": {"type": "number"}, "kb": {"type": "object"},
                                     "tags": {"type": "array"}, "name": {"type": "string"}},
             "nodes": [
               {"id": "r", "kind": "router", "routes": [{"when": "\(escaped)", "to": "yes"}], "default": "no"},
               {"id": "yes", "kind": "end", "answer": "yes"}, {"id": "no", "kind": "end", "answer": "no"}]}
            """)
        let runner = FlowRunner(flow: flow, model: BuiltinModelClient(), tools: noTools)
        return await runner.start(runID: "r", input: "Hello World", inputs: inputs).answer == "yes"
    }

    @Test func comparesNumbersAndStrings() async throws {
        let state: [String: JSONValue] = ["score": .number(0.7), "name": .string("bob")]
        #expect(try await holds("state.score >= 0.5", state))
        #expect(try await !holds("state.score < 0.5", state))
        #expect(try await holds("state.score != 1 and state.name == 'bob'", state))
        #expect(try await holds("state.name > \"alice\"", state))
        #expect(try await !holds("state.name > 3", state))
        #expect(try await holds("-1 < state.score", state))
    }

    @Test func combinesWithPrecedence() async throws {
        let state: [String: JSONValue] = ["score": .number(1)]
        #expect(try await holds("true or false and false"))
        #expect(try await !holds("(true or false) and false"))
        #expect(try await holds("not state.score == 2", state))
        #expect(try await !holds("not not false"))
    }

    @Test func containsAndExists() async throws {
        let state: [String: JSONValue] = [
            "tags": .array([.string("vip"), .number(3)]),
            "kb": .object(["top_score": .number(0.2), "results": .array([.object(["text": .string("Reset it")])])]),
        ]
        #expect(try await holds("input contains 'world'", state))
        #expect(try await holds("state.tags contains 'vip' and state.tags contains 3", state))
        #expect(try await holds("state.kb contains 'top_score'", state))
        #expect(try await holds("exists(state.kb.results.0.text)", state))
        #expect(try await !holds("exists(state.kb.results.1.text)", state))
        #expect(try await !holds("exists(state.name)", state))
        #expect(try await holds("state.kb.results.0.text == 'Reset it'", state))
        #expect(try await holds("state.name == null", state))
    }

    @Test(arguments: [
        ("state.x >", "expression ends too early at character 9"),
        ("a == 1", "unknown name 'a'"),
        ("state.x == 'open", "unterminated string at character 11"),
        ("(state.x == 1", "expected ')' at character 13"),
        ("state.x = 1", "unknown operator '=' at character 8"),
        ("exists(3)", "exists() takes a path"),
        ("1 == 1 2", "unexpected '2' at character 7"),
        ("state.x & 1", "unexpected character '&' at character 8"),
    ])
    func reportsParseErrorsWithPositions(expression: String, message: String) throws {
        let json = """
            {"entry": "r", "state": {"x": {"type": "any"}}, "nodes": [
              {"id": "r", "kind": "router", "routes": [{"when": "\(expression)", "to": "e"}]},
              {"id": "e", "kind": "end"}]}
            """
        let validation = FlowValidator.validate(json: json)
        let error = try #require(validation.errors.first)
        #expect(error.code == "BAD_EXPRESSION")
        #expect(error.path == "$.nodes[0].routes[0].when")
        #expect(error.message.contains(message), "\(error.message)")
    }
}
