/// A validated flow, precompiled for execution: nodes addressed by index, templates and expressions
/// parsed once. Build it with `FlowValidator.validate`.
public struct CompiledFlow: Sendable {
    /// The flow's name (may be empty).
    public let name: String
    /// The declared state channels, by name (`input` and `answer` are always present).
    public let channels: [String: Channel]
    /// The node ids in document order.
    public var nodeIDs: [String] { nodes.map(\.id) }
    /// The node that runs first.
    public var entryNodeID: String { nodes[entry].id }

    let nodes: [CompiledNode]
    let entry: Int
    let indexByID: [String: Int]

    /// The kind of the node with `id`, as written in the flow; nil for an unknown id.
    public func kind(ofNode id: String) -> String? {
        indexByID[id].map { nodes[$0].kind.name }
    }

    /// Problems with the extra initial values of a run: a value that does not fit its declared channel,
    /// or the reserved key `input`. Paths are `$.inputs.<key>`.
    public func check(inputs: [String: JSONValue]) -> [FlowIssue] {
        inputs.keys.sorted().compactMap { key in
            if key == "input" {
                return FlowIssue(
                    path: "$.inputs.input", code: "RESERVED_CHANNEL", message: "'input' is the run's input message")
            }
            guard let channel = channels[key], !channel.type.accepts(inputs[key]!) else { return nil }
            let valid: Bool
            switch channel.reducer {
            case .overwrite: valid = false
            case .append: valid = inputs[key]!.arrayValue != nil
            case .merge: valid = inputs[key]!.objectValue != nil
            }
            if valid { return nil }
            return FlowIssue(
                path: "$.inputs.\(key)", code: "TYPE_MISMATCH",
                message: "input '\(key)' must be a \(channel.type.rawValue)")
        }
    }

    /// Barrier progress by node index, from a checkpoint's `waiting`.
    func indices(_ waiting: [String: [String]]) -> [Int: [Int]] {
        var result: [Int: [Int]] = [:]
        for (node, sources) in waiting {
            guard let index = indexByID[node] else { continue }
            result[index] = sources.compactMap { indexByID[$0] }
        }
        return result
    }

    /// The state a run starts with: every channel's initial value, then `input`, then `inputs`.
    func initialState(input: String, inputs: [String: JSONValue]) -> [String: JSONValue] {
        var state: [String: JSONValue] = [:]
        for channel in channels.values { state[channel.name] = channel.initial }
        state["input"] = .string(input)
        for (key, value) in inputs { state[key] = value }
        return state
    }
}

/// An outgoing edge; taken when it has no condition or its condition holds after the step.
struct CompiledEdge: Sendable {
    let target: Int
    let condition: Expression?
}

/// One option of an `llm_router`.
struct RouterOption: Sendable {
    let name: String
    let description: String
    let target: Int
}

/// A node with everything it needs pre-parsed.
struct CompiledNode: Sendable {
    enum Kind: Sendable {
        case llm(model: String, system: Template?, prompt: Template, output: String?)
        case tool(tool: String, arguments: ValueTemplate, output: String?, continueOnError: Bool)
        case router(routes: [(Expression, Int)], fallback: Int?)
        case llmRouter(model: String, prompt: Template, options: [RouterOption], output: String?, fallback: Int?)
        case humanInput(prompt: Template, choices: [String], output: String?)
        case set(values: [(String, ValueTemplate)])
        case end(answer: Template?)

        var name: String {
            switch self {
            case .llm: "llm"
            case .tool: "tool"
            case .router: "router"
            case .llmRouter: "llm_router"
            case .humanInput: "human_input"
            case .set: "set"
            case .end: "end"
            }
        }
    }

    let id: String
    let kind: Kind
    let edges: [CompiledEdge]
    let retry: RetryPolicy
    let timeout: Duration?
    /// Fan-in barrier: the node runs only once all of these have finished since it last ran.
    let waitFor: [Int]
}
