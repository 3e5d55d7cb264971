import Execution
import Foundation
import RPCCore
import RPCModels
import RuntimeSecurity
import ServiceTestSupport
import Synchronization

/// The execution service run in-process against a fake control plane (and the built-in model).
struct ExecutionFixture {
    let harness: ServiceTestHarness
    let control: FakeControlPlane
    let client: Agentplane_V1_ExecutionService.Client

    static func start(_ extra: [String: String] = [:], control: FakeControlPlane? = nil) async throws
        -> ExecutionFixture
    {
        let control = try await existingOrNew(control)
        let harness = try await ServiceTestHarness.start(
            ExecutionService.definition,
            environment: [
                "CONTROL_ADDR": control.address, "EXECUTION_RECOVERY_INTERVAL": "200ms",
                "EXECUTION_REPLICA_GROUP": "test-\(UUID().uuidString.lowercased())",
            ].merging(extra) {
                $1
            })
        return ExecutionFixture(
            harness: harness, control: control, client: Agentplane_V1_ExecutionService.Client(harness.client))
    }

    private static func existingOrNew(_ control: FakeControlPlane?) async throws -> FakeControlPlane {
        if let control { return control }
        return try await FakeControlPlane.start()
    }

    func stop() async throws {
        try await harness.stop()
        await control.stop()
    }
}

/// A tenant id no other test uses.
func uniqueTenant(_ label: String = "t") -> String {
    "execution-\(label)-\(UUID().uuidString.lowercased())"
}

/// Builder credentials in `tenant`.
func builder(_ tenant: String, user: String = "builder-1") async throws -> Metadata {
    try await bearer(role: .builder, tenant: tenant, user: user)
}

/// A draft Execute request.
func draftRequest(_ flow: String, input: String = "hello", conversation: String = "") -> Agentplane_V1_ExecuteRequest {
    var request = Agentplane_V1_ExecuteRequest()
    request.source = .draftFlowJSON(flow)
    request.input = input
    request.conversationID = conversation
    return request
}

/// Every event of a streaming call.
func collect(
    _ call: (
        @escaping @Sendable (ClientResponseStream<Agentplane_V1_ExecutionEvent>) async throws ->
            [Agentplane_V1_ExecutionEvent]
    )
        async throws -> [Agentplane_V1_ExecutionEvent]
) async throws -> [Agentplane_V1_ExecutionEvent] {
    try await call { stream in
        var events: [Agentplane_V1_ExecutionEvent] = []
        for try await event in stream { events.append(event) }
        return events
    }
}

/// A short name for an event's payload, for comparing sequences.
func kind(_ event: Agentplane_V1_ExecutionEvent) -> String {
    switch event.payload {
    case .runStarted: "run_started"
    case .nodeStarted(let node): "node_started:\(node.nodeID)"
    case .nodeFinished(let node): "node_finished:\(node.nodeID)"
    case .answerDelta: "answer_delta"
    case .toolCall: "tool_call"
    case .toolResult: "tool_result"
    case .interrupt: "interrupt"
    case .runResumed: "run_resumed"
    case .runFinished: "run_finished"
    case .runFailed: "run_failed"
    case .runCancelled: "run_cancelled"
    case nil: "none"
    }
}

/// Flows used by the tests.
enum Flows {
    /// set → tool (echo) → llm → end.
    static let multiStep = """
        {"entry": "prepare",
         "state": {"topic": {"type": "string"}, "found": {"type": "object"}, "draft": {"type": "string"}},
         "nodes": [
           {"id": "prepare", "kind": "set", "values": {"topic": "{{input}}"}, "next": "lookup"},
           {"id": "lookup", "kind": "tool", "tool": "echo", "arguments": {"q": "{{state.topic}}"}, "output": "found",
            "next": "write"},
           {"id": "write", "kind": "llm", "prompt": "Answer the question: {{input}}", "output": "draft",
            "next": "done"},
           {"id": "done", "kind": "end", "answer": "{{state.draft}}"}
         ]}
        """

    /// A question with two choices, then an answer naming the decision.
    static let approval = """
        {"entry": "ask",
         "state": {"decision": {"type": "string"}},
         "nodes": [
           {"id": "ask", "kind": "human_input", "prompt": "Approve {{input}}?", "choices": ["yes", "no"],
            "output": "decision", "next": "done"},
           {"id": "done", "kind": "end", "answer": "decided {{state.decision}}"}
         ]}
        """

    /// One slow tool call.
    static func slow(delayMilliseconds: Int) -> String {
        """
        {"entry": "wait",
         "state": {"result": {"type": "object"}},
         "nodes": [
           {"id": "wait", "kind": "tool", "tool": "slow", "arguments": {"delay_ms": \(delayMilliseconds)},
            "output": "result", "next": "done"},
           {"id": "done", "kind": "end", "answer": "waited"}
         ]}
        """
    }

    /// `count` set nodes in a line, each writing `n`.
    static func counter(_ count: Int) -> String {
        let nodes = (1...count).map { index in
            let next = index < count ? ", \"next\": \"s\(index + 1)\"" : ""
            return "{\"id\": \"s\(index)\", \"kind\": \"set\", \"values\": {\"n\": \(index)}\(next)}"
        }
        return """
            {"entry": "s1", "state": {"n": {"type": "number", "default": 0}},
             "nodes": [\(nodes.joined(separator: ", "))]}
            """
    }

    /// Four tools (the second slow), then an end: the crash test's flow.
    static func crash(slowMilliseconds: Int) -> String {
        """
        {"entry": "t1",
         "state": {"a": {"type": "object"}, "b": {"type": "object"}, "c": {"type": "object"}, "d": {"type": "object"}},
         "nodes": [
           {"id": "t1", "kind": "tool", "tool": "echo", "arguments": {"n": 1}, "output": "a", "next": "t2"},
           {"id": "t2", "kind": "tool", "tool": "slow", "arguments": {"delay_ms": \(slowMilliseconds)}, "output": "b",
            "next": "t3"},
           {"id": "t3", "kind": "tool", "tool": "echo", "arguments": {"n": 3}, "output": "c", "next": "t4"},
           {"id": "t4", "kind": "tool", "tool": "echo", "arguments": {"n": 4}, "output": "d", "next": "done"},
           {"id": "done", "kind": "end", "answer": "all four tools ran"}
         ]}
        """
    }
}
