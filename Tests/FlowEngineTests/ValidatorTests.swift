import FlowEngine
import Foundation
import Testing

@Suite("Flow validation")
struct ValidatorTests {
    func issues(_ json: String) -> FlowValidation { FlowValidator.validate(json: json) }

    func hasError(_ validation: FlowValidation, _ code: String, at path: String) -> Bool {
        validation.errors.contains { $0.code == code && $0.path == path }
    }

    @Test func acceptsAMinimalFlow() throws {
        let validation = issues(#"{"entry": "a", "nodes": [{"id": "a", "kind": "end", "answer": "hi {{input}}"}]}"#)
        #expect(validation.isValid)
        #expect(validation.warnings.isEmpty)
        #expect(validation.flow?.entryNodeID == "a")
    }

    @Test func reportsInvalidJSON() {
        #expect(hasError(issues("{nodes: ["), "INVALID_JSON", at: "$"))
    }

    @Test func reportsUnknownNodeKind() {
        let validation = issues(
            #"{"entry": "a", "nodes": [{"id": "a", "kind": "end"}, {"id": "b", "kind": "python"}]}"#)
        #expect(hasError(validation, "UNKNOWN_NODE_KIND", at: "$.nodes[1].kind"))
        #expect(validation.flow == nil)
    }

    @Test func reportsDanglingEdges() {
        let validation = issues(
            #"""
            {"entry": "a", "nodes": [{"id": "a", "kind": "set", "values": {"answer": "x"}, "next": "nowhere"}],
             "edges": [{"from": "a", "to": "ghost"}]}
            """#)
        #expect(hasError(validation, "DANGLING_EDGE", at: "$.nodes[0].next"))
        #expect(hasError(validation, "DANGLING_EDGE", at: "$.edges[0].to"))
    }

    @Test func reportsMissingAndUnknownEntry() {
        #expect(hasError(issues(#"{"nodes": [{"id": "a", "kind": "end"}]}"#), "MISSING_ENTRY", at: "$.entry"))
        #expect(
            hasError(issues(#"{"entry": "z", "nodes": [{"id": "a", "kind": "end"}]}"#), "DANGLING_EDGE", at: "$.entry"))
    }

    @Test func warnsAboutUnreachableNodes() {
        let validation = issues(
            #"{"entry": "a", "nodes": [{"id": "a", "kind": "end"}, {"id": "b", "kind": "end"}]}"#)
        #expect(validation.isValid)
        #expect(validation.warnings.map(\.path) == ["$.nodes[1]"])
        #expect(validation.warnings.first?.code == "UNREACHABLE_NODE")
    }

    @Test func reportsBadExpressionsWithPosition() throws {
        let validation = issues(
            #"""
            {"entry": "r", "nodes": [
              {"id": "r", "kind": "router", "routes": [{"when": "state.x >= ", "to": "e"}], "default": "e"},
              {"id": "e", "kind": "end"}],
             "state": {"x": {"type": "number"}}}
            """#)
        let error = try #require(validation.errors.first { $0.path == "$.nodes[0].routes[0].when" })
        #expect(error.code == "BAD_EXPRESSION")
        #expect(error.message.contains("character 11"))
    }

    @Test func reportsTypeMismatches() {
        let validation = issues(
            #"""
            {"entry": "s", "state": {"count": {"type": "number"}, "tags": {"type": "string", "reducer": "append"},
                                     "flag": {"type": "bool", "default": "yes"}},
             "nodes": [{"id": "s", "kind": "set", "values": {"count": "many"}}]}
            """#)
        #expect(hasError(validation, "TYPE_MISMATCH", at: "$.nodes[0].values.count"))
        #expect(hasError(validation, "TYPE_MISMATCH", at: "$.state.tags.reducer"))
        #expect(hasError(validation, "TYPE_MISMATCH", at: "$.state.flag.default"))
    }

    @Test func reportsEveryErrorAtOnce() {
        let validation = issues(
            #"""
            {"state": {"n": {"type": "float"}},
             "nodes": [
               {"id": "a", "kind": "llm", "output": "missing"},
               {"id": "a", "kind": "tool", "tool": "t", "arguments": {"q": "{{state.nope}}"}},
               {"id": "c", "kind": "human_input", "prompt": "{{oops"},
               {"kind": "end"}]}
            """#)
        let found = Set(validation.errors.map { "\($0.code) \($0.path)" })
        let expected: Set<String> = [
            "UNKNOWN_TYPE $.state.n.type", "MISSING_ENTRY $.entry", "MISSING_FIELD $.nodes[0].prompt",
            "UNKNOWN_CHANNEL $.nodes[0].output", "DUPLICATE_NODE $.nodes[1].id",
            "UNKNOWN_CHANNEL $.nodes[1].arguments", "BAD_TEMPLATE $.nodes[2].prompt", "MISSING_FIELD $.nodes[3].id",
        ]
        #expect(expected.isSubset(of: found), "\(found)")
    }

    @Test func rejectsRetryAndRouterMistakes() {
        let validation = issues(
            #"""
            {"entry": "t", "nodes": [
              {"id": "t", "kind": "tool", "tool": "x", "retry": {"max_attempts": 0, "retry_on": ["sometimes"]},
               "timeout_ms": -1, "next": "r"},
              {"id": "r", "kind": "router", "routes": [], "next": "t"},
              {"id": "l", "kind": "llm_router", "options": [{"name": "a", "to": "t"}, {"name": "a", "to": "r"}]},
              {"id": "e", "kind": "end"}],
             "edges": [{"from": "e", "to": "t"}]}
            """#)
        #expect(hasError(validation, "INVALID_FIELD", at: "$.edges[0].from"))
        let waits = issues(
            #"""
            {"entry": "a", "nodes": [{"id": "a", "kind": "set", "values": {"answer": "x"}, "next": "b"},
                                     {"id": "b", "kind": "end", "wait_for": ["a", "b", "zz"]}]}
            """#)
        #expect(hasError(waits, "INVALID_VALUE", at: "$.nodes[1].wait_for[1]"))
        #expect(hasError(waits, "DANGLING_EDGE", at: "$.nodes[1].wait_for[2]"))
        #expect(!hasError(waits, "INVALID_VALUE", at: "$.nodes[1].wait_for[0]"))
        #expect(hasError(validation, "INVALID_VALUE", at: "$.nodes[0].retry.max_attempts"))
        #expect(hasError(validation, "INVALID_VALUE", at: "$.nodes[0].retry.retry_on[0]"))
        #expect(hasError(validation, "INVALID_VALUE", at: "$.nodes[0].timeout_ms"))
        #expect(hasError(validation, "MISSING_FIELD", at: "$.nodes[1].routes"))
        #expect(hasError(validation, "INVALID_FIELD", at: "$.nodes[1].next"))
        #expect(hasError(validation, "DUPLICATE_OPTION", at: "$.nodes[2].options[1].name"))
    }

    @Test(arguments: ["support-agent.flow.json", "refund-approval.flow.json"])
    func acceptsTheExamples(name: String) throws {
        let validation = FlowValidator.validate(data: try Data(contentsOf: exampleURL(name)))
        #expect(validation.errors.isEmpty, "\(validation.errors)")
        #expect(validation.warnings.isEmpty, "\(validation.warnings)")
    }
}

/// A file in the repository's examples/ folder.
func exampleURL(_ name: String) -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples").appendingPathComponent(name)
}
