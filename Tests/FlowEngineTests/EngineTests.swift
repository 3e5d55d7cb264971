import FlowEngine
import Foundation
import Testing

@Suite("Engine: super-steps, reducers, limits")
struct EngineTests {
    @Test func fanOutRunsBranchesInOneStepAndFanInMergesWithReducers() async throws {
        let flow = try compile(
            #"""
            {"entry": "start", "state": {"log": {"type": "array", "reducer": "append"},
                                         "facts": {"type": "object", "reducer": "merge"}},
             "nodes": [
               {"id": "start", "kind": "set", "values": {"log": "start", "facts": {"origin": "start"}},
                "next": ["left", "right"]},
               {"id": "left", "kind": "tool", "tool": "slow", "output": "facts", "next": "join"},
               {"id": "right", "kind": "set", "values": {"log": ["r1", "r2"], "facts": {"right": true}},
                "next": "join"},
               {"id": "join", "kind": "end", "answer": "{{state.log}}"}]}
            """#)
        let tools = FakeTools([
            "slow": { _, _ in
                try await Task.sleep(for: .milliseconds(50))
                return .object(["left": .bool(true)])
            }
        ])
        let log = EventLog()
        let outcome = await FlowRunner(flow: flow, model: BuiltinModelClient(), tools: tools, onEvent: log.handler)
            .start(runID: "fan", input: "")
        #expect(outcome.answer == "start\nr1\nr2")
        #expect(
            outcome.state?["facts"]
                == .object(["origin": .string("start"), "left": .bool(true), "right": .bool(true)]))
        // The join node runs once, after both branches.
        #expect(log.startedNodes.filter { $0 == "join" }.count == 1)
        let steps = log.all.compactMap { event -> (String, Int)? in
            if case .nodeStarted(let id, _, let step) = event.payload { (id, step) } else { nil }
        }
        #expect(steps.map(\.1) == [1, 2, 2, 3])
    }

    @Test func waitForJoinsBranchesOfDifferentLengthOnce() async throws {
        func flow(waitFor: Bool) throws -> CompiledFlow {
            let barrier = waitFor ? #", "wait_for": ["short", "long2"]"# : ""
            return try compile(
                #"""
                {"entry": "start", "state": {"log": {"type": "array", "reducer": "append"}},
                 "nodes": [
                   {"id": "start", "kind": "set", "values": {"log": "start"}, "next": ["short", "long1"]},
                   {"id": "short", "kind": "set", "values": {"log": "short"}, "next": "join"},
                   {"id": "long1", "kind": "set", "values": {"log": "long1"}, "next": "long2"},
                   {"id": "long2", "kind": "set", "values": {"log": "long2"}, "next": "join"},
                   {"id": "join", "kind": "set", "values": {"log": "join"}\#(barrier)}]}
                """#)
        }
        let joined = await FlowRunner(flow: try flow(waitFor: true), model: BuiltinModelClient(), tools: noTools)
            .start(runID: "wait", input: "")
        #expect(
            joined.state?["log"] == .array(["start", "short", "long1", "long2", "join"].map { .string($0) }))
        let unjoined = await FlowRunner(flow: try flow(waitFor: false), model: BuiltinModelClient(), tools: noTools)
            .start(runID: "nowait", input: "")
        #expect(
            unjoined.state?["log"]
                == .array(["start", "short", "long1", "long2", "join", "join"].map { .string($0) }))
    }

    @Test func conditionalEdgesAreEvaluatedAfterTheStep() async throws {
        let flow = try compile(
            #"""
            {"entry": "s", "state": {"vip": {"type": "bool"}, "seen": {"type": "bool"}, "count": {"type": "number"}},
             "nodes": [{"id": "s", "kind": "set", "values": {"seen": true}},
                       {"id": "a", "kind": "end", "answer": "vip"},
                       {"id": "b", "kind": "set", "values": {"answer": "normal"}},
                       {"id": "bad", "kind": "set", "values": {"count": "{{input}}"}}],
             "edges": [{"from": "s", "to": "a", "when": "state.vip == true and state.seen"},
                       {"from": "s", "to": "b", "when": "not state.vip"},
                       {"from": "b", "to": "bad", "when": "input != ''"}]}
            """#)
        let runner = FlowRunner(flow: flow, model: BuiltinModelClient(), tools: noTools)
        #expect(await runner.start(runID: "c1", input: "", inputs: ["vip": .bool(true)]).answer == "vip")
        #expect(await runner.start(runID: "c2", input: "").answer == "normal")
        // A string copied into a number channel is a type mismatch when the node runs.
        let outcome = await runner.start(runID: "c3", input: "many")
        #expect(outcome.error?.code == "TYPE_MISMATCH")
        #expect(outcome.error?.nodeID == "bad")
    }

    @Test func initialInputsAreTypeChecked() async throws {
        let flow = try compile(
            #"{"entry": "e", "state": {"vip": {"type": "bool"}}, "nodes": [{"id": "e", "kind": "end"}]}"#)
        #expect(flow.check(inputs: ["vip": .bool(true), "extra": .number(1)]).isEmpty)
        #expect(flow.check(inputs: ["vip": .string("yes")]).map(\.path) == ["$.inputs.vip"])
        #expect(flow.check(inputs: ["input": .string("x")]).map(\.code) == ["RESERVED_CHANNEL"])
        let log = EventLog()
        let runner = FlowRunner(flow: flow, model: BuiltinModelClient(), tools: noTools, onEvent: log.handler)
        let outcome = await runner.start(runID: "inputs", input: "", inputs: ["vip": .string("yes")])
        #expect(outcome.error?.code == "TYPE_MISMATCH")
        #expect(log.sequences == [1, 2])
    }

    @Test func loopsEndAndRunawayLoopsHitTheRecursionLimit() async throws {
        let flow = try compile(
            #"""
            {"entry": "tick", "state": {"ticks": {"type": "array", "reducer": "append"}, "stop": {"type": "bool"}},
             "nodes": [
               {"id": "tick", "kind": "set", "values": {"ticks": "t"}, "next": "check"},
               {"id": "check", "kind": "router",
                "routes": [{"when": "exists(state.ticks.2) and not state.stop == false", "to": "done"}],
                "default": "tick"},
               {"id": "done", "kind": "end", "answer": "{{state.ticks}}"}]}
            """#)
        let log = EventLog()
        let runner = FlowRunner(flow: flow, model: BuiltinModelClient(), tools: noTools, onEvent: log.handler)
        #expect(await runner.start(runID: "loop", input: "").answer == "t\nt\nt")
        let limited = FlowRunner(
            flow: flow, model: BuiltinModelClient(), tools: noTools, limits: RunLimits(maxSteps: 25))
        let runaway = await limited.start(runID: "runaway", input: "", inputs: ["stop": .bool(false)])
        #expect(runaway.error?.code == "MAX_STEPS_EXCEEDED")
        #expect(runaway.error?.message.contains("25 node executions") == true)
    }

    @Test func retriesRetryableErrorsWithTheSameIdempotencyKey() async throws {
        let flow = try compile(
            #"""
            {"entry": "t", "state": {"out": {"type": "object"}},
             "nodes": [{"id": "t", "kind": "tool", "tool": "flaky", "output": "out",
                        "retry": {"max_attempts": 3, "initial_backoff_ms": 1, "jitter": false}}]}
            """#)
        let flaky = FakeTools([
            "flaky": { _, attempt in
                if attempt < 3 { throw NodeError(.unavailable, "try later") }
                return .object(["ok": .bool(true)])
            }
        ])
        let outcome = await FlowRunner(flow: flow, model: BuiltinModelClient(), tools: flaky)
            .start(runID: "retry", input: "")
        #expect(outcome.state?["out"] == .object(["ok": .bool(true)]))
        #expect(flaky.invocations.map(\.idempotencyKey) == ["retry:1:t", "retry:1:t", "retry:1:t"])

        let broken = FakeTools(["flaky": { _, _ in throw NodeError(.invalidArgument, "bad query") }])
        let failed = await FlowRunner(flow: flow, model: BuiltinModelClient(), tools: broken)
            .start(runID: "no-retry", input: "")
        #expect(failed.error == FlowRunError(code: "TOOL_FAILED", message: "bad query", nodeID: "t"))
        #expect(broken.invocations.count == 1)
    }

    @Test func nodeTimeoutFailsTheNodeAndIsRetryable() async throws {
        let flow = try compile(
            #"""
            {"entry": "t", "nodes": [{"id": "t", "kind": "tool", "tool": "hang", "timeout_ms": 300,
               "retry": {"max_attempts": 2, "initial_backoff_ms": 1, "retry_on": ["timeout"]}}]}
            """#)
        let tools = FakeTools([
            "hang": { _, _ in
                try await Task.sleep(for: .seconds(30))
                return .object([:])
            }
        ])
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = await FlowRunner(flow: flow, model: BuiltinModelClient(), tools: tools)
            .start(runID: "slow", input: "")
        #expect(outcome.error?.code == "NODE_TIMEOUT")
        #expect(outcome.error?.retryable == true)
        #expect(tools.invocations.count == 2)
        #expect(clock.now - started < .seconds(10))
    }

    @Test func runDeadlineStopsTheRun() async throws {
        let flow = try compile(#"{"entry": "t", "nodes": [{"id": "t", "kind": "tool", "tool": "hang"}]}"#)
        let tools = FakeTools([
            "hang": { _, _ in
                try await Task.sleep(for: .seconds(30))
                return .object([:])
            }
        ])
        let log = EventLog()
        let runner = FlowRunner(
            flow: flow, model: BuiltinModelClient(), tools: tools, limits: RunLimits(timeout: .milliseconds(50)),
            onEvent: log.handler)
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = await runner.start(runID: "deadline", input: "")
        #expect(outcome.error?.code == "TIMEOUT")
        // Far below the tool's 30 s; the margin is for a test process whose cooperative pool
        // (2 threads here) other suites keep busy (5.5 s was seen once in CI).
        #expect(clock.now - started < .seconds(10))
        guard case .runFailed(let error)? = log.all.last?.payload else {
            Issue.record("the last event is not runFailed")
            return
        }
        #expect(error.code == "TIMEOUT")
    }

    @Test func cancellationStopsTheRunAtOnce() async throws {
        let flow = try compile(
            #"""
            {"entry": "t", "nodes": [{"id": "t", "kind": "tool", "tool": "hang", "next": "e"},
                                     {"id": "e", "kind": "end"}]}
            """#
        )
        let tools = FakeTools([
            "hang": { _, _ in
                try await Task.sleep(for: .seconds(30))
                return .object([:])
            }
        ])
        let log = EventLog()
        let runner = FlowRunner(flow: flow, model: BuiltinModelClient(), tools: tools, onEvent: log.handler)
        let task = Task { await runner.start(runID: "cancel", input: "") }
        while tools.invocations.isEmpty { try await Task.sleep(for: .milliseconds(2)) }
        let clock = ContinuousClock()
        let cancelled = clock.now
        task.cancel()
        let outcome = await task.value
        #expect(outcome.isCancelled)
        #expect(clock.now - cancelled < .seconds(5))
        #expect(!log.startedNodes.contains("e"))
        guard case .runCancelled? = log.all.last?.payload else {
            Issue.record("the last event is not runCancelled")
            return
        }
    }
}
