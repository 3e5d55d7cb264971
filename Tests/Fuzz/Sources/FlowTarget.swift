import FlowEngine
import Foundation

/// Flow JSON through validation and compilation; a compiled flow also checks a few inputs.
enum FlowTarget {
    private static let inputs: [String: JSONValue] = [
        "input": .string("x"), "count": .number(1), "items": .array([.string("a")]), "notes": .object([:]),
    ]

    static func run(_ bytes: UnsafeRawBufferPointer) {
        let validation = FlowValidator.validate(data: Data(bytes))
        guard let flow = validation.flow else { return }
        _ = flow.check(inputs: inputs)
        for id in flow.nodeIDs { _ = flow.kind(ofNode: id) }
        _ = flow.entryNodeID
    }
}
