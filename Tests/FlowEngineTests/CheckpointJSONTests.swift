import Foundation
import Testing

@testable import FlowEngine

@Suite("Checkpoints written as JSON by hand read back with JSONDecoder as they were")
struct CheckpointJSONTests {
    static func checkpoint() -> FlowCheckpoint {
        FlowCheckpoint(
            id: "run-1:3", runID: "run-\"1\"\\", step: 3, nodeIDs: ["a", "b\u{1}"], next: ["ask"],
            deferred: ["later"], waiting: ["join": ["a", "b"], "empty": []],
            state: [
                "answer": .string("ünï \"cødé\" 🚀\n\t\u{0}"), "n": .number(-12.5), "big": .number(1e300),
                "list": .array([.null, .bool(true), .number(3), .object(["k": .string("v")])]),
            ],
            interrupts: [
                FlowInterrupt(interruptID: "run-1:3:ask", nodeID: "ask", prompt: "Why?", choices: ["a", "b"])
            ],
            sequence: Int64.max - 1, nodeExecutions: 7, activeSeconds: 0.1 + 0.2,
            usage: FlowUsage(promptTokens: 11, completionTokens: 22),
            completedSideEffects: ["run-1:3:tool": .object(["ticket": .number(42)])],
            createdAt: Date(timeIntervalSinceReferenceDate: 786_543_210.123_456_7))
    }

    @Test func aRichCheckpointRoundTrips() throws {
        let original = Self.checkpoint()
        let decoded = try JSONDecoder().decode(FlowCheckpoint.self, from: Data(original.jsonText.utf8))
        #expect(decoded == original)
        // What JSONEncoder wrote reads back the same, so stored checkpoints of either kind work.
        let encoded = try JSONDecoder().decode(FlowCheckpoint.self, from: JSONEncoder().encode(original))
        #expect(encoded == decoded)
    }

    @Test func anEmptyCheckpointAndAnUnrepresentableTimeStillRead() throws {
        var original = Self.checkpoint()
        original.nodeIDs = []
        original.waiting = [:]
        original.state = [:]
        original.interrupts = []
        original.completedSideEffects = [:]
        original.activeSeconds = .infinity
        let decoded = try JSONDecoder().decode(FlowCheckpoint.self, from: Data(original.jsonText.utf8))
        #expect(decoded.activeSeconds == 0)
        original.activeSeconds = 0
        #expect(decoded == original)
    }
}
