@testable import FlowEngine

/// Router conditions: the input as UTF-8 text is parsed, and what parses is evaluated over a
/// small state with every kind of value.
enum ExpressionTarget {
    private static let state: [String: JSONValue] = [
        "input": .string("Where is my refund?"),
        "count": .number(3),
        "ratio": .number(-0.5),
        "flag": .bool(true),
        "none": .null,
        "items": .array([.string("a"), .number(1), .object(["k": .string("v")])]),
        "answer": .object(["text": .string("ok"), "nested": .object(["deep": .array([.bool(false)])])]),
    ]

    static func run(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let expression = try? Expression.parse(text) else { return }
        _ = expression.paths
        _ = expression.holds(in: state)
    }
}
