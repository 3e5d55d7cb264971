import Foundation
import RPCCore
import RPCModels
import ServiceTestSupport
import Testing

@Suite("Execution: tools resolved with the agent, called directly unless they hold secrets")
struct RunToolsTests {
    static let flow = """
        {"entry": "direct",
         "state": {"a": {"type": "object"}, "b": {"type": "object"}, "c": {"type": "object"},
                   "d": {"type": "object"}},
         "nodes": [
           {"id": "direct", "kind": "tool", "tool": "kb", "arguments": {"query": "reset password"},
            "output": "a", "next": "sealed"},
           {"id": "sealed", "kind": "tool", "tool": "sealed-kb", "arguments": {"query": "x"}, "output": "b",
            "next": "off"},
           {"id": "off", "kind": "tool", "tool": "off-kb", "arguments": {"query": "x"}, "output": "c",
            "on_error": "continue", "next": "strict"},
           {"id": "strict", "kind": "tool", "tool": "tool-strict", "arguments": {"query": "too long"},
            "output": "d", "on_error": "continue", "next": "done"},
           {"id": "done", "kind": "end", "answer": "ok"}
         ]}
        """

    static func tool(
        _ id: String, _ name: String, enabled: Bool = true, secrets: [String] = [],
        schema: Google_Protobuf_Struct? = nil
    ) -> Agentplane_V1_Tool {
        var tool = Agentplane_V1_Tool()
        tool.id = id
        tool.name = name
        tool.kind = .kbSearch
        var config = Google_Protobuf_Struct()
        config.fields["mode"] = Google_Protobuf_Value(kind: .stringValue("lexical"))
        config.fields["top_k"] = Google_Protobuf_Value(kind: .numberValue(2))
        tool.config = config
        tool.enabled = enabled
        tool.secretNames = secrets
        tool.inputSchema = schema
        return tool
    }

    @Test func eachToolTakesTheWayItsKindAndSecretsAllow() async throws {
        let control = try await FakeControlPlane.start()
        let fixture = try await ExecutionFixture.start(["KB_SEARCH_ADDR": control.address], control: control)
        let tenant = uniqueTenant("tools")
        control.addAgent("agent-tools", version: 1, flow: Self.flow)
        var query = Google_Protobuf_Struct()
        query.fields["type"] = Google_Protobuf_Value(kind: .stringValue("string"))
        query.fields["maxLength"] = Google_Protobuf_Value(kind: .numberValue(3))
        var properties = Google_Protobuf_Struct()
        properties.fields["query"] = Google_Protobuf_Value(kind: .structValue(query))
        var schema = Google_Protobuf_Struct()
        schema.fields["type"] = Google_Protobuf_Value(kind: .stringValue("object"))
        schema.fields["properties"] = Google_Protobuf_Value(kind: .structValue(properties))
        control.setTools(
            [
                Self.tool("tool-kb", "kb"), Self.tool("tool-sealed", "sealed-kb", secrets: ["api_key"]),
                Self.tool("tool-off", "off-kb", enabled: false), Self.tool("tool-strict", "strict-kb", schema: schema),
            ], of: "agent-tools")
        var request = Agentplane_V1_ExecuteRequest()
        var ref = Agentplane_V1_AgentRef()
        ref.agentID = "agent-tools"
        request.source = .agent(ref)
        let metadata = try await serviceBearer(tenant: tenant, actingUser: "user-7")
        let events = try await collect { try await fixture.client.execute(request, metadata: metadata, onResponse: $0) }
        let state = try #require(events.last?.runFinished?.finalState?.fields)

        #expect(control.includeToolsAsked == [true])
        // Each tool call reports the resolved tool's kind (the flow names tools by name or id).
        let calls = events.compactMap(\.toolCall)
        #expect(calls.map(\.toolName).contains("kb") && calls.map(\.toolName).contains("tool-strict"))
        #expect(!calls.isEmpty && calls.allSatisfy { call in call.toolKind == .kbSearch })
        // The tool without secrets went straight to kb-search, as the control plane would send it.
        let searches = control.searches
        #expect(searches.count == 1)
        #expect(searches.first?.request.query == "reset password")
        #expect(searches.first?.request.mode == .lexical)
        #expect(searches.first?.request.topK == 2)
        #expect(searches.first?.tenant == tenant)
        let found = state["a"]?.structValue?.fields
        #expect(found?["top_score"]?.numberValue == 0.9)
        #expect(
            found?["results"]?.listValue?.values.first?.structValue?.fields["text"]?.stringValue
                == "Reset it from the sign-in page.")
        // The one with secrets went through ExecuteTool, and only it.
        #expect(control.toolCalls.map(\.tool) == ["sealed-kb"])
        #expect(state["b"]?.structValue?.fields["tool"]?.stringValue == "sealed-kb")
        // A disabled tool and arguments its schema refuses fail their nodes, as ExecuteTool would.
        let off = state["c"]?.structValue?.fields["error"]?.structValue?.fields
        #expect(off?["message"]?.stringValue.contains("disabled") == true)
        let strict = state["d"]?.structValue?.fields["error"]?.structValue?.fields
        #expect(strict?["kind"]?.stringValue == "invalid_argument")
        try await fixture.stop()
    }
}
