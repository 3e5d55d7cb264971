import Foundation

extension FlowCheckpoint {
    /// The checkpoint as compact JSON, in exactly the shape its `Codable` conformance reads with
    /// `JSONDecoder`'s default strategies (the date as seconds since 2001), written directly:
    /// `JSONEncoder`'s generic path cost more than everything else a checkpoint save does, once
    /// per step of every run. Reading stays with `JSONDecoder` (recovery and resumes only).
    public var jsonText: String {
        var output = "{"
        var first = true
        func field(_ name: String, _ text: String) {
            if !first { output += "," }
            first = false
            output += JSONValue.string(name).jsonText + ":" + text
        }
        func strings(_ values: [String]) -> String { JSONValue.array(values.map { .string($0) }).jsonText }
        field("id", JSONValue.string(id).jsonText)
        field("runID", JSONValue.string(runID).jsonText)
        field("step", String(step))
        field("nodeIDs", strings(nodeIDs))
        field("next", strings(next))
        field("deferred", strings(deferred))
        field("waiting", JSONValue.object(waiting.mapValues { .array($0.map { .string($0) }) }).jsonText)
        field("state", JSONValue.object(state).jsonText)
        let interruptTexts = interrupts.map { interrupt in
            JSONValue.object([
                "interruptID": .string(interrupt.interruptID), "nodeID": .string(interrupt.nodeID),
                "prompt": .string(interrupt.prompt), "choices": .array(interrupt.choices.map { .string($0) }),
            ]).jsonText
        }
        field("interrupts", "[" + interruptTexts.joined(separator: ",") + "]")
        field("sequence", String(sequence))
        field("nodeExecutions", String(nodeExecutions))
        field("activeSeconds", Self.number(activeSeconds))
        field(
            "usage", "{\"promptTokens\":\(usage.promptTokens),\"completionTokens\":\(usage.completionTokens)}")
        field("completedSideEffects", JSONValue.object(completedSideEffects).jsonText)
        field("createdAt", Self.number(createdAt.timeIntervalSinceReferenceDate))
        output += "}"
        return output
    }

    /// A double as a JSON number that reads back as the same value; zero for one JSON cannot
    /// hold (`JSONEncoder` would have refused the whole checkpoint).
    private static func number(_ value: Double) -> String {
        value.isFinite ? String(value) : "0"
    }
}
