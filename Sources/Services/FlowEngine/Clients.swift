/// Who wrote a chat message.
public enum ChatRole: String, Sendable, Codable {
    /// Instructions and context.
    case system
    /// The person.
    case user
    /// The model.
    case assistant
    /// A tool's output.
    case tool
}

/// One message of a chat request.
public struct ChatMessage: Sendable, Hashable {
    /// Who wrote it.
    public var role: ChatRole
    /// Its text.
    public var content: String

    /// Creates a message.
    public init(role: ChatRole, content: String) {
        self.role = role
        self.content = content
    }
}

/// A choice offered to the model as a tool (how `llm_router` passes its options).
public struct ChatToolChoice: Sendable, Hashable {
    /// The option's name (the tool name the model answers with).
    public var name: String
    /// What the option is for.
    public var description: String

    /// Creates a choice.
    public init(name: String, description: String) {
        self.name = name
        self.description = description
    }
}

/// A chat completion request made by an `llm` or `llm_router` node.
public struct ChatRequest: Sendable, Hashable {
    /// The model id; empty: the tenant's default chat model.
    public var model: String
    /// The conversation sent to the model.
    public var messages: [ChatMessage]
    /// Non-empty for `llm_router`: the model must answer with exactly one of these.
    public var tools: [ChatToolChoice]

    /// Creates a request.
    public init(model: String, messages: [ChatMessage], tools: [ChatToolChoice] = []) {
        self.model = model
        self.messages = messages
        self.tools = tools
    }
}

/// The outcome of a chat call.
public struct ChatResult: Sendable, Hashable {
    /// The full answer text (the concatenated deltas).
    public var text: String
    /// The name of the tool the model chose, when tools were offered.
    public var toolCall: String?
    /// Tokens of the prompt.
    public var promptTokens: Int
    /// Tokens of the answer.
    public var completionTokens: Int

    /// Creates a result.
    public init(text: String, toolCall: String? = nil, promptTokens: Int = 0, completionTokens: Int = 0) {
        self.text = text
        self.toolCall = toolCall
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }
}

/// Chat completions for `llm` and `llm_router` nodes; the execution service implements it over the
/// LLM gateway's ChatStream. Errors should be `NodeError`s so retry policies can select them.
public protocol ModelClient: Sendable {
    /// Streams the answer: `onDelta` receives each piece as it arrives, in order; the return value is
    /// the final result.
    func chat(_ request: ChatRequest, onDelta: @escaping @Sendable (String) -> Void) async throws -> ChatResult
}

/// One tool call made by a `tool` node.
public struct ToolInvocation: Sendable, Hashable {
    /// The tool's id or name, as written in the flow.
    public var tool: String
    /// The rendered arguments (a JSON object).
    public var arguments: JSONValue
    /// `<run_id>:<step>:<node_id>`: the same for every retry and resume of this call, so the tool
    /// service can return the stored result instead of repeating the side effect.
    public var idempotencyKey: String
    /// The run making the call.
    public var runID: String
    /// The calling node.
    public var nodeID: String

    /// Creates an invocation.
    public init(tool: String, arguments: JSONValue, idempotencyKey: String, runID: String, nodeID: String) {
        self.tool = tool
        self.arguments = arguments
        self.idempotencyKey = idempotencyKey
        self.runID = runID
        self.nodeID = nodeID
    }
}

/// Executes tools for `tool` nodes; the execution service implements it over the control plane's
/// ExecuteTool RPC. Errors should be `NodeError`s so retry policies can select them.
public protocol ToolClient: Sendable {
    /// Runs the tool and returns its result (a JSON object).
    func execute(_ invocation: ToolInvocation) async throws -> JSONValue
}
