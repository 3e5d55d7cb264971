@testable import FlowEngine

/// Router conditions: the input as UTF-8 text is parsed, and what parses is evaluated over a
/// small state with every kind of value.
enum ExpressionTarget {
    private static let state: [String: JSONValue] = [
        "input": .string("Where is my refund?"),
        "score": .number(0.75),
        "name": .string("bob"),
        "flag": .bool(true),
        "none": .null,
        "tags": .array([.string("vip"), .number(3), .object(["k": .string("v")])]),
        "kb": .object([
            "top_score": .number(0.9), "results": .array([.object(["text": .string("Reset it")])]),
        ]),
    ]

    static func run(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let expression = try? Expression.parse(text) else { return }
        _ = expression.paths
        _ = expression.holds(in: state)
    }
}
