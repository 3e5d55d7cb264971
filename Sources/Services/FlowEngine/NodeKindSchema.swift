/// How an editor should present and check one field of a node (docs/FLOWS.md, "Nodes").
public enum FieldKind: String, Sendable, Codable, CaseIterable {
    /// A `{{path}}` template (docs/FLOWS.md, "Templates").
    case template
    /// A router condition (docs/FLOWS.md, "Expressions").
    case expression
    /// Free text that is not interpreted (a model id, an option's description).
    case text
    /// The name of a declared state channel.
    case channel
    /// A tool's id or name.
    case tool
    /// The id of another node.
    case node
    /// A list of node ids.
    case nodes
    /// A number within `minimum`…`maximum`.
    case number
    /// `true` or `false`.
    case bool
    /// One of `choices`.
    case choice
    /// Any number of `choices`.
    case choices
    /// A list of strings.
    case strings
    /// A JSON object whose string members are templates (a tool's arguments).
    case templateObject
    /// A JSON object of channel → value (a `set` node's values; strings are templates).
    case channelValues
    /// Any JSON value.
    case json
    /// A list of objects, each with the fields in `fields`.
    case list
    /// An object with the fields in `fields`.
    case object
}

/// One field of a node kind: its JSON key, how to edit it, whether it is required.
public struct NodeFieldSchema: Sendable, Codable, Hashable {
    /// The JSON key in the node object.
    public let key: String
    /// How the value is edited and checked.
    public let kind: FieldKind
    /// Whether a node of the kind needs it.
    public let required: Bool
    /// One sentence for the editor.
    public let help: String
    /// The allowed values of a `choice` / `choices` field.
    public let choices: [String]?
    /// The channel types an `output` channel may have (overwrite channels).
    public let channelTypes: [String]?
    /// The least value of a `number` field.
    public let minimum: Double?
    /// The greatest value of a `number` field.
    public let maximum: Double?
    /// The value the engine uses when the field is absent, as JSON text.
    public let defaultJSON: String?
    /// The members of a `list` item or an `object`.
    public let fields: [NodeFieldSchema]?

    /// Creates a field.
    public init(
        _ key: String, _ kind: FieldKind, required: Bool = false, help: String, choices: [String]? = nil,
        channelTypes: [ChannelType]? = nil, minimum: Double? = nil, maximum: Double? = nil,
        defaultJSON: String? = nil, fields: [NodeFieldSchema]? = nil
    ) {
        self.key = key
        self.kind = kind
        self.required = required
        self.help = help
        self.choices = choices
        self.channelTypes = channelTypes?.map(\.rawValue)
        self.minimum = minimum
        self.maximum = maximum
        self.defaultJSON = defaultJSON
        self.fields = fields
    }
}

/// One node kind: what it does, its own fields, and whether it picks its successors itself.
public struct NodeKindSchema: Sendable, Codable, Hashable {
    /// The value of the node's `kind`.
    public let kind: String
    /// What the node does, in one sentence.
    public let summary: String
    /// The kind's own fields (the common ones are in `FlowSchema.commonFields`).
    public let fields: [NodeFieldSchema]
    /// Routers and end nodes choose their successors: they take no `next` or `edges`.
    public let choosesSuccessors: Bool
    /// The fields whose values name successor nodes (a router's routes, its default).
    public let routeKeys: [String]
}

/// The schema of a flow document that the engine exports for editors (`agentctl agents schema`
/// prints it; `scripts/generate` writes it into the web console, so the builder's forms cannot
/// drift from the validator).
public struct FlowSchema: Sendable, Codable, Hashable {
    /// Every node kind the engine runs.
    public let nodeKinds: [NodeKindSchema]
    /// The fields every node may have (`next`, `retry`, `timeout_ms`, `wait_for`).
    public let commonFields: [NodeFieldSchema]
    /// The fields of a state channel declaration.
    public let channelFields: [NodeFieldSchema]
    /// Channels that always exist (`input`, `answer`).
    public let builtinChannels: [String]
    /// The error kinds a retry policy may select.
    public let errorKinds: [String]
    /// The flow's limits: node count, expression length, layout metadata.
    public let limits: [String: Double]

    /// The schema of the engine as built.
    public static let current = FlowSchema(
        nodeKinds: NodeKinds.all, commonFields: NodeKinds.common, channelFields: NodeKinds.channel,
        builtinChannels: ["input", "answer"], errorKinds: NodeErrorKind.allCases.map(\.rawValue),
        limits: [
            "max_nodes": Double(FlowValidator.maxNodes),
            "max_expression_characters": Double(Expression.maxLength),
            "max_metadata_bytes": Double(FlowLayoutMetadata.maxBytes),
            "max_coordinate": FlowLayoutMetadata.maxCoordinate,
            "max_timeout_ms": FlowValidator.longestNodeTimeoutMilliseconds,
        ])
}

/// The node kinds' fields, as the validator reads them (FlowValidator.swift).
enum NodeKinds {
    static let all: [NodeKindSchema] = [
        NodeKindSchema(
            kind: "llm", summary: "One chat call; streams the answer and writes its text to a channel.",
            fields: [
                NodeFieldSchema("prompt", .template, required: true, help: "The user message (a template)."),
                NodeFieldSchema("system", .template, help: "The system message (a template)."),
                NodeFieldSchema("model", .text, help: "A model id; empty: the tenant's default model."),
                NodeFieldSchema(
                    "output", .channel, help: "The string channel the answer is written to.",
                    channelTypes: [.string]),
            ], choosesSuccessors: false, routeKeys: []),
        NodeKindSchema(
            kind: "tool", summary: "Calls a tool of the tenant and writes the result object.",
            fields: [
                NodeFieldSchema("tool", .tool, required: true, help: "The tool's id or name."),
                NodeFieldSchema(
                    "arguments", .templateObject, help: "The call's arguments; string values are templates.",
                    defaultJSON: "{}"),
                NodeFieldSchema(
                    "output", .channel, help: "The object channel the result is written to.",
                    channelTypes: [.object]),
                NodeFieldSchema(
                    "on_error", .choice, help: "continue: a failure writes {\"error\": …} instead of failing the run.",
                    choices: ["fail", "continue"], defaultJSON: "\"fail\""),
            ], choosesSuccessors: false, routeKeys: []),
        NodeKindSchema(
            kind: "router", summary: "Goes to the first route whose condition holds, else to the default.",
            fields: [
                NodeFieldSchema(
                    "routes", .list, required: true, help: "Conditions in order; the first that holds wins.",
                    fields: [
                        NodeFieldSchema("when", .expression, required: true, help: "The condition."),
                        NodeFieldSchema("to", .node, required: true, help: "Where the run goes when it holds."),
                    ]),
                NodeFieldSchema("default", .node, help: "Where the run goes when no condition holds."),
            ], choosesSuccessors: true, routeKeys: ["routes", "default"]),
        NodeKindSchema(
            kind: "llm_router", summary: "The model picks one of the options; the run follows it.",
            fields: [
                NodeFieldSchema(
                    "options", .list, required: true, help: "The options offered to the model (as tools).",
                    fields: [
                        NodeFieldSchema("name", .text, required: true, help: "The option's name."),
                        NodeFieldSchema("description", .text, help: "What the option is for."),
                        NodeFieldSchema("to", .node, required: true, help: "Where the run goes."),
                    ]),
                NodeFieldSchema(
                    "prompt", .template, help: "What the model decides on (a template).",
                    defaultJSON: "\"{{input}}\""),
                NodeFieldSchema("model", .text, help: "A model id; empty: the tenant's default model."),
                NodeFieldSchema(
                    "output", .channel, help: "The string channel the chosen option's name is written to.",
                    channelTypes: [.string]),
                NodeFieldSchema("default", .node, help: "Where the run goes when the model names no option."),
            ], choosesSuccessors: true, routeKeys: ["options", "default"]),
        NodeKindSchema(
            kind: "human_input", summary: "Pauses the run until a person answers.",
            fields: [
                NodeFieldSchema("prompt", .template, required: true, help: "The question (a template)."),
                NodeFieldSchema("choices", .strings, help: "The answers offered; empty: free text."),
                NodeFieldSchema(
                    "output", .channel, help: "The channel the answer is written to.", channelTypes: [.string]),
            ], choosesSuccessors: false, routeKeys: []),
        NodeKindSchema(
            kind: "set", summary: "Writes values to channels; strings are templates.",
            fields: [
                NodeFieldSchema(
                    "values", .channelValues, required: true,
                    help: "channel → value; a string that is exactly one {{path}} copies the value with its type.")
            ], choosesSuccessors: false, routeKeys: []),
        NodeKindSchema(
            kind: "end", summary: "Ends its branch, writing the answer when given.",
            fields: [NodeFieldSchema("answer", .template, help: "The run's answer (a template).")],
            choosesSuccessors: true, routeKeys: []),
    ]

    static let common: [NodeFieldSchema] = [
        NodeFieldSchema("next", .nodes, help: "Plain edges to the nodes that run next (several fan out)."),
        NodeFieldSchema(
            "retry", .object, help: "How often a failing node is tried again.",
            fields: [
                NodeFieldSchema(
                    "max_attempts", .number, help: "Attempts including the first.", minimum: 1, maximum: 10,
                    defaultJSON: "1"),
                NodeFieldSchema(
                    "initial_backoff_ms", .number, help: "The wait before the second attempt.", minimum: 0,
                    maximum: 60_000, defaultJSON: "200"),
                NodeFieldSchema(
                    "max_backoff_ms", .number, help: "The longest wait.", minimum: 0, maximum: 300_000,
                    defaultJSON: "5000"),
                NodeFieldSchema(
                    "multiplier", .number, help: "Growth of the wait per attempt.", minimum: 1, maximum: 10,
                    defaultJSON: "2"),
                NodeFieldSchema("jitter", .bool, help: "Randomise each wait to 50–100 %.", defaultJSON: "true"),
                NodeFieldSchema(
                    "retry_on", .choices, help: "The error kinds that are retried.",
                    choices: NodeErrorKind.allCases.map(\.rawValue),
                    defaultJSON: "[\"unavailable\",\"timeout\",\"rate_limited\"]"),
            ]),
        NodeFieldSchema(
            "timeout_ms", .number, help: "The longest one attempt may take, in milliseconds.", minimum: 1,
            maximum: FlowValidator.longestNodeTimeoutMilliseconds),
        NodeFieldSchema(
            "wait_for", .nodes, help: "A fan-in barrier: run once after all these nodes (each with an edge here)."),
    ]

    static let channel: [NodeFieldSchema] = [
        NodeFieldSchema(
            "type", .choice, help: "The values the channel holds.", choices: ChannelType.allCases.map(\.rawValue),
            defaultJSON: "\"any\""),
        NodeFieldSchema(
            "reducer", .choice, help: "How a write combines with the current value.",
            choices: Reducer.allCases.map(\.rawValue), defaultJSON: "\"overwrite\""),
        NodeFieldSchema("default", .json, help: "The value before any node writes (must match the type)."),
    ]
}
