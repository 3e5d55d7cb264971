import FlowEngine
import Foundation
import Testing

@Suite("Engine: state and node-output size limits, numbers from flows")
struct SizeLimitTests {
    /// A `set` node that doubles `s` and loops to itself.
    static let doubling = #"""
        {"entry": "grow", "state": {"s": {"type": "string", "default": "xxxxxxxxxxxxxxxx"}},
         "nodes": [{"id": "grow", "kind": "set", "values": {"s": "{{state.s}}{{state.s}}"}, "next": "grow"}]}
        """#

    /// One `set` node writing `value` to `v`.
    static func writer(_ value: String) -> String {
        #"{"entry": "w", "state": {"v": {"type": "string"}}, "nodes": [{"id": "w", "kind": "set", "values": {"v": "\#(value)"}}]}"#
    }

    @Test func encodedSizeIsTheSizeOfTheCompactJSONAndStopsPastTheLimit() {
        let values: [JSONValue] = [
            .null, .bool(true), .bool(false), .number(3), .number(0.5), .number(-1e300), .string("a\"b\\c\n\u{1}é"),
            .array([]), .array([.number(1), .string("x"), .null]), .object([:]),
            .object(["k": .array([.object(["é\t": .bool(false)])]), "other": .string("")]),
        ]
        for value in values {
            #expect(value.encodedSize() == value.jsonText.utf8.count, "\(value.jsonText)")
        }
        let huge = JSONValue.string(String(repeating: "x", count: 1 << 20))
        let measured = huge.encodedSize(limit: 100)
        #expect(measured > 100)
        #expect(measured < 1000)
    }

    @Test func aDoublingSetNodeFailsAtTheNodeOutputLimitBeforeGrowingFurther() async throws {
        let flow = try compile(Self.doubling)
        let checkpoints = InMemoryCheckpointer()
        let outcome = await FlowRunner(
            flow: flow, model: BuiltinModelClient(), tools: FakeTools([:]), checkpointer: checkpoints,
            limits: RunLimits(maxSteps: 1000, maxStateBytes: 1 << 20, maxNodeOutputBytes: 64 << 10)
        ).start(runID: "double", input: "")
        let error = try #require(outcome.error)
        #expect(error.code == "NODE_OUTPUT_TOO_LARGE")
        #expect(error.nodeID == "grow")
        #expect(error.message.contains("'grow'"))
        // No checkpoint holds the oversized value: the last one has 32 KiB of it.
        let last = try #require(try await checkpoints.latest(runID: "double"))
        #expect(last.state["s"]?.stringValue?.utf8.count == 32 << 10)
    }

    @Test func theStateLimitFailsTheStepThatPassesItAndItIsNotCheckpointed() async throws {
        let flow = try compile(
            #"""
            {"entry": "add", "state": {"items": {"type": "array", "reducer": "append"}},
             "nodes": [{"id": "add", "kind": "set", "values": {"items": "0123456789012345678901234567890123456789"},
                        "next": "add"}]}
            """#)
        let checkpoints = InMemoryCheckpointer()
        let outcome = await FlowRunner(
            flow: flow, model: BuiltinModelClient(), tools: FakeTools([:]), checkpointer: checkpoints,
            limits: RunLimits(maxSteps: 10_000, maxStateBytes: 4096, maxNodeOutputBytes: 1024)
        ).start(runID: "append", input: "")
        let error = try #require(outcome.error)
        #expect(error.code == "STATE_TOO_LARGE")
        #expect(error.nodeID == "add")
        for checkpoint in try await checkpoints.checkpoints(runID: "append") {
            #expect(JSONValue.object(checkpoint.state).encodedSize() <= 4096)
        }
    }

    @Test func theStateLimitHoldsAtTheLimitAndFailsOneBytePastIt() async throws {
        let flow = try compile(Self.writer(String(repeating: "y", count: 300)))
        let free = await FlowRunner(flow: flow, model: BuiltinModelClient(), tools: FakeTools([:]))
            .start(runID: "free", input: "in")
        let size = JSONValue.object(try #require(free.state)).encodedSize()
        let atLimit = await FlowRunner(
            flow: flow, model: BuiltinModelClient(), tools: FakeTools([:]), limits: RunLimits(maxStateBytes: size)
        ).start(runID: "at", input: "in")
        #expect(atLimit.answer != nil)
        let past = await FlowRunner(
            flow: flow, model: BuiltinModelClient(), tools: FakeTools([:]), limits: RunLimits(maxStateBytes: size - 1)
        ).start(runID: "past", input: "in")
        #expect(past.error?.code == "STATE_TOO_LARGE")
        #expect(past.error?.nodeID == "w")
    }

    @Test func theNodeOutputLimitHoldsAtTheLimitAndFailsOneBytePastIt() async throws {
        let flow = try compile(Self.writer(String(repeating: "z", count: 500)))
        let size = JSONValue.string(String(repeating: "z", count: 500)).encodedSize()  // 502
        let atLimit = await FlowRunner(
            flow: flow, model: BuiltinModelClient(), tools: FakeTools([:]), limits: RunLimits(maxNodeOutputBytes: size)
        ).start(runID: "at", input: "")
        #expect(atLimit.answer != nil)
        let past = await FlowRunner(
            flow: flow, model: BuiltinModelClient(), tools: FakeTools([:]),
            limits: RunLimits(maxNodeOutputBytes: size - 1)
        ).start(runID: "past", input: "")
        #expect(past.error?.code == "NODE_OUTPUT_TOO_LARGE")
    }

    @Test func anOversizedToolResultIsNeitherRecordedNorReportedNorRetried() async throws {
        let flow = try compile(
            #"""
            {"entry": "t", "state": {"r": {"type": "object"}}, "nodes": [{"id": "t", "kind": "tool", "tool": "big", "output": "r", "on_error": "continue",
                                      "retry": {"max_attempts": 3, "retry_on": ["tool_failed", "internal"]}}]}
            """#)
        let tools = FakeTools(["big": { _, _ in .object(["blob": .string(String(repeating: "b", count: 5000))]) }])
        let checkpoints = InMemoryCheckpointer()
        let log = EventLog()
        let outcome = await FlowRunner(
            flow: flow, model: BuiltinModelClient(), tools: tools, checkpointer: checkpoints,
            limits: RunLimits(maxNodeOutputBytes: 4096), onEvent: log.handler
        ).start(runID: "tool", input: "")
        #expect(outcome.error?.code == "NODE_OUTPUT_TOO_LARGE")
        #expect(tools.invocations.count == 1)
        #expect(try await checkpoints.latest(runID: "tool")?.completedSideEffects.isEmpty ?? true)
        #expect(!log.all.contains { if case .toolResult = $0.payload { true } else { false } })
    }

    @Test func aTemplateRepeatingALargeValueStopsRenderingAtTheLimit() async throws {
        let repeated = String(repeating: "{{state.s}}", count: 10_000)
        let flow = try compile(
            #"""
            {"entry": "blow", "state": {"s": {"type": "string", "default": "\#(String(repeating: "s", count: 1000))"},
                                        "t": {"type": "string"}},
             "nodes": [{"id": "blow", "kind": "set", "values": {"t": "\#(repeated)"}}]}
            """#)
        let outcome = await FlowRunner(
            flow: flow, model: BuiltinModelClient(), tools: FakeTools([:]),
            limits: RunLimits(maxStateBytes: 64 << 10, maxNodeOutputBytes: 16 << 10)
        ).start(runID: "blow", input: "")
        #expect(outcome.error?.code == "TEMPLATE_TOO_LARGE")
        #expect(outcome.error?.nodeID == "blow")
        #expect(outcome.error?.message.contains("65536") == true)
        // The same template as a tool's arguments or a prompt stops the same way.
        let tool = try compile(
            #"""
            {"entry": "call", "state": {"s": {"type": "string", "default": "\#(String(repeating: "s", count: 1000))"}},
             "nodes": [{"id": "call", "kind": "tool", "tool": "echo", "arguments": {"q": "\#(repeated)"}}]}
            """#)
        let tools = FakeTools(["echo": { _, _ in .object([:]) }])
        let called = await FlowRunner(
            flow: tool, model: BuiltinModelClient(), tools: tools, limits: RunLimits(maxStateBytes: 64 << 10)
        ).start(runID: "call", input: "")
        #expect(called.error?.code == "TEMPLATE_TOO_LARGE")
        #expect(tools.invocations.isEmpty)
    }

    @Test func inputsLargerThanTheStateLimitFailTheRunBeforeAnyNode() async throws {
        let flow = try compile(Self.writer("v"))
        let log = EventLog()
        let outcome = await FlowRunner(
            flow: flow, model: BuiltinModelClient(), tools: FakeTools([:]), limits: RunLimits(maxStateBytes: 1024),
            onEvent: log.handler
        ).start(runID: "inputs", input: String(repeating: "i", count: 2000))
        #expect(outcome.error?.code == "STATE_TOO_LARGE")
        #expect(log.startedNodes.isEmpty)
    }

    @Test func hugeNumbersInAFlowAreRefusedOrSaturatedNotTrapped() async throws {
        // timeout_ms past 24 h (1e30 used to trap converting to Int64).
        let validation = FlowValidator.validate(
            json: #"{"entry": "a", "nodes": [{"id": "a", "kind": "end", "timeout_ms": 1e30}]}"#)
        #expect(validation.errors.map(\.path) == ["$.nodes[0].timeout_ms"])
        // A deadline of any size and a checkpoint's absurd active time do not trap.
        let flow = try compile(Self.writer("v"))
        let runner = FlowRunner(
            flow: flow, model: BuiltinModelClient(), tools: FakeTools([:]), checkpointer: InMemoryCheckpointer(),
            limits: RunLimits(timeout: .seconds(Int64.max)))
        #expect(await runner.start(runID: "long", input: "").answer != nil)
        let stored = #"""
            {"id": "c", "runID": "old", "step": 0, "nodeIDs": [], "next": ["w"], "deferred": [], "waiting": {},
             "state": {}, "interrupts": [], "sequence": 0, "nodeExecutions": 0, "activeSeconds": 1e300,
             "usage": {"promptTokens": 0, "completionTokens": 0}, "completedSideEffects": {}, "createdAt": 0}
            """#
        var checkpoint = try JSONDecoder().decode(FlowCheckpoint.self, from: Data(stored.utf8))
        #expect(try await runner.resume(from: checkpoint).answer != nil)
        checkpoint.activeSeconds = .nan
        #expect(checkpoint.activeTime == .zero)
        #expect(try await runner.resume(from: checkpoint).answer != nil)
    }
}
