import FlowEngine
import Foundation
import Synchronization
import Testing

@Suite("Durable runs: checkpoints, interrupts, crash resume, replay")
struct DurabilityTests {
    @Test func interruptInsideAParallelBranch() async throws {
        let flow = try compile(
            #"""
            {"entry": "start", "state": {"approval": {"type": "string"}, "lookup": {"type": "object"}},
             "nodes": [
               {"id": "start", "kind": "set", "values": {"approval": "pending"}, "next": ["ask", "look"]},
               {"id": "ask", "kind": "human_input", "prompt": "Approve?", "output": "approval", "next": "join"},
               {"id": "look", "kind": "tool", "tool": "lookup", "output": "lookup", "next": "join"},
               {"id": "join", "kind": "end", "answer": "{{state.approval}} / {{state.lookup.found}}"}]}
            """#)
        let tools = FakeTools(["lookup": { _, _ in .object(["found": .string("record 7")]) }])
        let store = InMemoryCheckpointer()
        let log = EventLog()
        let runner = FlowRunner(
            flow: flow, model: BuiltinModelClient(), tools: tools, checkpointer: store, onEvent: log.handler)
        let paused = await runner.start(runID: "par", input: "")
        let interrupt = try #require(paused.interrupts.first)
        #expect(interrupt.nodeID == "ask")
        let checkpoint = try #require(try await store.latest(runID: "par"))
        // The parallel branch finished and its update is saved; the interrupted node runs again on resume,
        // the join after both branches waits for it.
        #expect(checkpoint.state["lookup"] == .object(["found": .string("record 7")]))
        #expect(checkpoint.nodeIDs == ["look"])
        #expect(checkpoint.next == ["ask"])
        #expect(checkpoint.deferred == ["join"])
        #expect(checkpoint.interrupts == [interrupt])
        // A checkpoint survives a JSON round trip (how a store such as Redis keeps it).
        let decoded = try JSONDecoder().decode(FlowCheckpoint.self, from: try JSONEncoder().encode(checkpoint))
        #expect(decoded == checkpoint)

        let resumed = try await runner.resume(
            runID: "par", input: HumanInput(interruptID: interrupt.interruptID, text: "approved"))
        #expect(resumed.answer == "approved / record 7")
        #expect(tools.invocations.count == 1)
        #expect(log.startedNodes.filter { $0 == "join" }.count == 1)
        #expect(log.sequences == Array(1...Int64(log.sequences.count)))
    }

    @Test func resumeAfterACrashDoesNotRepeatCompletedSideEffects() async throws {
        let flow = try compile(
            #"""
            {"entry": "a", "state": {"ra": {"type": "object"}, "rb": {"type": "object"}, "rc": {"type": "object"}},
             "nodes": [
               {"id": "a", "kind": "tool", "tool": "fast", "output": "ra", "next": ["b", "c"]},
               {"id": "b", "kind": "tool", "tool": "fast", "output": "rb", "next": "d"},
               {"id": "c", "kind": "tool", "tool": "gate", "output": "rc", "next": "d"},
               {"id": "d", "kind": "end", "answer": "{{state.ra.n}} {{state.rb.n}} {{state.rc.n}}"}]}
            """#)
        let gateOpen = Mutex(false)
        let counter = Mutex(0)
        let tools = FakeTools([
            "fast": { _, _ in
                .object([
                    "n": .number(
                        Double(
                            counter.withLock {
                                $0 += 1
                                return $0
                            }))
                ])
            },
            "gate": { _, _ in
                // Hangs until the "crash"; after the restart it answers.
                while !gateOpen.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
                return .object(["n": .string("c")])
            },
        ])
        let store = InMemoryCheckpointer()
        let runner = FlowRunner(flow: flow, model: BuiltinModelClient(), tools: tools, checkpointer: store)
        let task = Task { await runner.start(runID: "crash", input: "") }
        while tools.completedPerKey["crash:2:b"] == nil || tools.invocations(of: "gate").isEmpty {
            try await Task.sleep(for: .milliseconds(2))
        }
        task.cancel()
        #expect(await task.value.isCancelled)

        let last = try #require(try await store.latest(runID: "crash"))
        #expect(last.step == 1)
        #expect(last.next == ["b", "c"])
        #expect(last.completedSideEffects.keys.sorted() == ["crash:2:b"])

        gateOpen.withLock { $0 = true }
        let log = EventLog()
        let restarted = FlowRunner(
            flow: flow, model: BuiltinModelClient(), tools: tools, checkpointer: store, onEvent: log.handler)
        let outcome = try await restarted.resume(runID: "crash")
        #expect(outcome.answer == "1 2 c")
        // Every side effect completed exactly once; step 1 was not redone, b's stored result was reused.
        #expect(tools.completedPerKey == ["crash:1:a": 1, "crash:2:b": 1, "crash:2:c": 1])
        #expect(tools.invocations(of: "fast").count == 2)
        let replayed = log.all.contains {
            if case .toolResult(let key, _, _, _, _, true, _) = $0.payload { key == "crash:2:b" } else { false }
        }
        #expect(replayed)
        #expect(log.all.first?.sequence == last.sequence + 1)
    }

    @Test func replayStartsANewRunFromAnEarlierCheckpoint() async throws {
        let flow = try compile(
            #"""
            {"entry": "s", "state": {"score": {"type": "number"}, "route": {"type": "string"}},
             "nodes": [
               {"id": "s", "kind": "set", "values": {"route": "scored"}, "next": "r"},
               {"id": "r", "kind": "router", "routes": [{"when": "state.score > 0.5", "to": "high"}],
                "default": "low"},
               {"id": "high", "kind": "end", "answer": "high"}, {"id": "low", "kind": "end", "answer": "low"}]}
            """#)
        let store = InMemoryCheckpointer()
        let runner = FlowRunner(flow: flow, model: BuiltinModelClient(), tools: noTools, checkpointer: store)
        #expect(await runner.start(runID: "orig", input: "", inputs: ["score": .number(0.9)]).answer == "high")
        let checkpoints = try await store.checkpoints(runID: "orig")
        #expect(checkpoints.map(\.step) == [1, 2, 3])
        #expect(checkpoints.map(\.id) == ["orig:1", "orig:2", "orig:3"])
        let first = checkpoints[0]
        #expect(first.next == ["r"])

        let log = EventLog()
        let replayer = FlowRunner(
            flow: flow, model: BuiltinModelClient(), tools: noTools, checkpointer: store, onEvent: log.handler)
        let replay = await replayer.replay(runID: "copy", from: first, statePatch: ["score": .number(0.1)])
        #expect(replay.answer == "low")
        #expect(replay.state?["route"] == .string("scored"))
        #expect(log.startedNodes == ["r", "low"])
        guard case .runStarted(let fromRun, let fromCheckpoint)? = log.all.first?.payload else {
            Issue.record("no runStarted event")
            return
        }
        #expect(fromRun == "orig" && fromCheckpoint == "orig:1")
        // The original run is untouched.
        #expect(try await store.checkpoints(runID: "orig").count == 3)
        #expect(try await store.checkpoints(runID: "copy").map(\.id) == ["copy:2", "copy:3"])
    }

    @Test func nodeFinishedEventsNameTheirCheckpoint() async throws {
        let flow = try compile(
            #"""
            {"entry": "s", "nodes": [{"id": "s", "kind": "set", "values": {"answer": "x"}, "next": "e"},
                                     {"id": "e", "kind": "end"}]}
            """#
        )
        let store = InMemoryCheckpointer()
        let log = EventLog()
        _ = await FlowRunner(
            flow: flow, model: BuiltinModelClient(), tools: noTools, checkpointer: store, onEvent: log.handler
        ).start(runID: "ev", input: "")
        let finished = log.all.compactMap { event -> (String?, [String: JSONValue], Int64)? in
            if case .nodeFinished(_, _, let update, let id, _) = event.payload {
                (id, update, event.sequence)
            } else {
                nil
            }
        }
        #expect(finished.map(\.0) == ["ev:1", "ev:2"])
        #expect(finished[0].1 == ["answer": .string("x")])
        let saved = try await store.checkpoints(runID: "ev")
        #expect(saved.map(\.sequence) == finished.map(\.2))
    }
}

@Suite("Durable runs: several interrupts")
struct SeveralInterruptsTests {
    @Test func twoParallelQuestionsAreAnsweredOneAfterTheOther() async throws {
        let flow = try compile(
            #"""
            {"entry": "s", "state": {"a": {"type": "string"}, "b": {"type": "string"}},
             "nodes": [
               {"id": "s", "kind": "set", "values": {"a": "?"}, "next": ["qa", "qb"]},
               {"id": "qa", "kind": "human_input", "prompt": "A?", "output": "a", "next": "j"},
               {"id": "qb", "kind": "human_input", "prompt": "B?", "output": "b", "next": "j"},
               {"id": "j", "kind": "end", "answer": "{{state.a}}{{state.b}}"}]}
            """#)
        let store = InMemoryCheckpointer()
        let log = EventLog()
        let runner = FlowRunner(
            flow: flow, model: BuiltinModelClient(), tools: noTools, checkpointer: store, onEvent: log.handler)
        let first = await runner.start(runID: "two", input: "")
        #expect(first.interrupts.map(\.nodeID) == ["qa", "qb"])
        let qa = try #require(first.interrupts.first)
        let second = try await runner.resume(runID: "two", input: HumanInput(interruptID: qa.interruptID, text: "1"))
        let qb = try #require(second.interrupts.first)
        #expect(second.interrupts.map(\.nodeID) == ["qb"])
        #expect(qb.interruptID == "two:3:qb")
        let done = try await runner.resume(runID: "two", input: HumanInput(interruptID: qb.interruptID, text: "2"))
        #expect(done.answer == "12")
        #expect(log.startedNodes.filter { $0 == "j" }.count == 1)
    }
}
