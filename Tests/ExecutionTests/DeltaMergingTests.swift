import FlowEngine
import Testing

@testable import Execution

@Suite("Execution: answer deltas that reach the pump together are sent as one")
struct DeltaMergingTests {
    static func delta(_ node: String, _ text: String, _ sequence: Int64) -> FlowEvent {
        FlowEvent(runID: "r", sequence: sequence, payload: .answerDelta(nodeID: node, text: text))
    }

    static func texts(_ events: [FlowEvent]) -> [String] {
        events.map { event in
            if case .answerDelta(let node, let text) = event.payload { "\(node):\(text)" } else { "other" }
        }
    }

    @Test func runsOfOneNodeAreJoinedUpToTheLimitAndNothingElseMoves() {
        let started = FlowEvent(runID: "r", sequence: 1, payload: .nodeStarted(nodeID: "b", kind: "llm", step: 2))
        let batch = [
            Self.delta("a", "Hel", 1), Self.delta("a", "lo", 2), started, Self.delta("b", "x", 3),
            Self.delta("b", "y", 4), Self.delta("c", "z", 5), Self.delta("c", "0123456789", 6),
        ]
        let merged = EventPump.mergingDeltas(batch, limit: 8)
        #expect(Self.texts(merged) == ["a:Hello", "other", "b:xy", "c:z", "c:0123456789"])
        #expect(merged.first?.sequence == 1)
        // Without room to merge, the batch is unchanged.
        #expect(Self.texts(EventPump.mergingDeltas(batch, limit: 0)) == Self.texts(batch))
        #expect(EventPump.mergingDeltas([], limit: 8).isEmpty)
    }
}
