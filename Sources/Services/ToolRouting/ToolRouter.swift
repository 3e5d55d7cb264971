public import FlowEngine
import FlowEngineProto
public import RPCCore
public import RPCModels
public import Runtime

/// One tool call, ready to run: the tool, its decrypted secrets and checked arguments.
public struct ToolCall: Sendable {
    /// The tool as stored.
    public var tool: Agentplane_V1_Tool
    /// Its secret values, opened (empty for a call that must not carry any).
    public var secrets: [String: String]
    /// The origin the secrets are bound to ("" for none): an http tool sends them only there.
    public var secretsOrigin: String
    /// The checked arguments.
    public var arguments: [String: JSONValue]
    /// Keeps a repeated call from repeating the side effect ("" for none).
    public var idempotencyKey: String
    /// The run making the call, if any.
    public var runID: String
    /// The run's conversation, if any.
    public var conversationID: String
    /// How long the call may take.
    public var timeout: Duration
    /// How long a call may take when its tool sets no timeout.
    public static let defaultTimeout: Duration = .seconds(30)
    /// The longest a call may take, whatever its tool says.
    public static let maximumTimeout: Duration = .seconds(300)

    /// The time limit of one call of a tool: its timeout (`defaultTimeout` when unset), at most
    /// `maximumTimeout` whatever the stored tool says.
    public static func timeout(of tool: Agentplane_V1_Tool) -> Duration {
        guard let duration = tool.timeout?.duration, duration > .zero else { return defaultTimeout }
        return min(duration, maximumTimeout)
    }

    /// A call.
    public init(
        tool: Agentplane_V1_Tool, secrets: [String: String] = [:], secretsOrigin: String = "",
        arguments: [String: JSONValue], idempotencyKey: String, runID: String, conversationID: String,
        timeout: Duration
    ) {
        self.tool = tool
        self.secrets = secrets
        self.secretsOrigin = secretsOrigin
        self.arguments = arguments
        self.idempotencyKey = idempotencyKey
        self.runID = runID
        self.conversationID = conversationID
        self.timeout = timeout
    }
}

/// Routes a tool call of a kind an integration service runs (kb_search, ticketing,
/// notification, llm) to that service and turns its answer into a JSON object. The control
/// plane's ExecuteTool and the execution service's tool nodes share it, so a tool does the same
/// whichever of them calls it.
public struct ToolRouter: Sendable {
    let peers: PeerClients

    /// A router calling the services in `peers`.
    public init(peers: PeerClients) {
        self.peers = peers
    }

    /// Whether `kind` is one this router runs.
    public static func routes(_ kind: Agentplane_V1_ToolKind) -> Bool {
        switch kind {
        case .kbSearch, .ticketing, .notification, .llm: true
        default: false
        }
    }

    /// Runs the call on the integration service for its tool's kind.
    public func execute(_ call: ToolCall) async throws -> [String: JSONValue] {
        let config = ProtoJSON.members(call.tool.config)
        let options = CallOptions(timeout: call.timeout)
        switch call.tool.kind {
        case .kbSearch: return try await kbSearch(call, config: config, options: options)
        case .ticketing: return try await ticketing(call, config: config, options: options)
        case .notification: return try await notification(call, config: config, options: options)
        case .llm: return try await llm(call, config: config, options: options)
        default: throw RPCError(code: .failedPrecondition, message: "tool \(call.tool.name) has no executable kind")
        }
    }

    private func kbSearch(_ call: ToolCall, config: [String: JSONValue], options: CallOptions) async throws
        -> [String: JSONValue]
    {
        var request = Agentplane_V1_SearchRequest()
        request.query = call.arguments["query"]?.stringValue ?? ""
        if request.query.isEmpty { throw argument("query", "a kb_search tool needs a non-empty string `query`") }
        let topK = call.arguments["top_k"]?.numberValue ?? config["top_k"]?.numberValue ?? 0
        request.topK = Int32(max(0, min(50, topK)))
        request.mode =
            switch config["mode"]?.stringValue {
            case "lexical": .lexical
            case "vector": .vector
            default: .hybrid
            }
        request.tags = config["tags"]?.arrayValue?.compactMap(\.stringValue) ?? []
        request.documentIDS = config["document_ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
        request.minScore = config["min_score"]?.numberValue ?? 0
        let client = Agentplane_V1_KnowledgeBaseService.Client(try peers.client(for: .kbSearch))
        let response = try await client.search(request, options: options)
        // `top_score` and `mode` let a flow's router judge whether the knowledge base helped
        // (scores are only comparable within one mode: cosine for vector, ts_rank/BM25 for
        // lexical, reciprocal-rank sums for hybrid); absent when nothing matched.
        var result: [String: JSONValue] = [
            "mode": .string(Self.modeName(response.mode)),
            "results": .array(
                response.results.map { result in
                    .object([
                        "score": .number(result.score), "document_id": .string(result.documentID),
                        "title": .string(result.title), "chunk_id": .string(result.chunkID),
                        "text": .string(result.text), "heading_path": .array(result.headingPath.map { .string($0) }),
                    ])
                }),
        ]
        if let best = response.results.first { result["top_score"] = .number(best.score) }
        return result
    }

    private static func modeName(_ mode: Agentplane_V1_SearchMode) -> String {
        switch mode {
        case .lexical: "lexical"
        case .vector: "vector"
        default: "hybrid"
        }
    }

    private func ticketing(_ call: ToolCall, config: [String: JSONValue], options: CallOptions) async throws
        -> [String: JSONValue]
    {
        var backend = Agentplane_V1_TicketBackendConfig()
        if config["backend"]?.stringValue == "zammad" {
            backend.backend = .zammad
            backend.baseURL = config["base_url"]?.stringValue ?? ""
            backend.apiToken = call.secrets["api_token"] ?? ""
            backend.groupName = config["group_name"]?.stringValue ?? ""
        } else {
            backend.backend = .builtin
        }
        let client = Agentplane_V1_TicketingService.Client(try peers.client(for: .ticketing))
        let action = call.arguments["action"]?.stringValue ?? "create"
        switch action {
        case "create":
            var request = Agentplane_V1_CreateTicketRequest()
            request.backendConfig = backend
            request.idempotencyKey = call.idempotencyKey
            request.title = call.arguments["title"]?.stringValue ?? ""
            if request.title.isEmpty { throw argument("title", "creating a ticket needs a non-empty string `title`") }
            request.body = call.arguments["body"]?.stringValue ?? ""
            request.requester = call.arguments["requester"]?.stringValue ?? ""
            request.tags = call.arguments["tags"]?.arrayValue?.compactMap(\.stringValue) ?? []
            request.priority =
                switch call.arguments["priority"]?.stringValue {
                case "low": .low
                case "high": .high
                case "urgent": .urgent
                default: .normal
                }
            request.conversationID = call.conversationID
            request.runID = call.runID
            let response = try await client.createTicket(request, options: options)
            return ["ticket": Self.ticket(response.ticket), "replayed": .bool(response.replayed)]
        case "get":
            var request = Agentplane_V1_GetTicketRequest()
            request.ticketID = call.arguments["ticket_id"]?.stringValue ?? ""
            if request.ticketID.isEmpty { throw argument("ticket_id", "reading a ticket needs `ticket_id`") }
            request.backendConfig = backend
            let response = try await client.getTicket(request, options: options)
            return ["ticket": Self.ticket(response.ticket)]
        default:
            throw argument("action", "`action` must be \"create\" or \"get\"")
        }
    }

    private static func ticket(_ ticket: Agentplane_V1_Ticket?) -> JSONValue {
        guard let ticket else { return .null }
        return .object([
            "id": .string(ticket.id), "number": .number(Double(ticket.number)), "url": .string(ticket.url),
            "title": .string(ticket.title), "status": .string("\(ticket.status)"),
            "priority": .string("\(ticket.priority)"),
        ])
    }

    private func notification(_ call: ToolCall, config: [String: JSONValue], options: CallOptions) async throws
        -> [String: JSONValue]
    {
        var request = Agentplane_V1_NotifyRequest()
        request.idempotencyKey = call.idempotencyKey
        request.channel =
            switch config["channel"]?.stringValue {
            case "slack": .slack
            case "teams": .teams
            case "webhook": .webhook
            default: .log
            }
        if request.channel != .log {
            var target = Agentplane_V1_NotificationTarget()
            target.url = call.secrets["url"] ?? ""
            target.signingSecret = call.secrets["signing_secret"] ?? ""
            target.channelName = config["channel_name"]?.stringValue ?? ""
            request.target = target
        }
        request.text = call.arguments["text"]?.stringValue ?? ""
        if request.text.isEmpty { throw argument("text", "a notification tool needs a non-empty string `text`") }
        request.title = call.arguments["title"]?.stringValue ?? ""
        request.severity =
            switch call.arguments["severity"]?.stringValue ?? config["severity"]?.stringValue {
            case "warning": .warning
            case "critical": .critical
            default: .info
            }
        if let payload = call.arguments["payload"]?.objectValue { request.payload = ProtoJSON.structure(payload) }
        request.conversationID = call.conversationID
        request.runID = call.runID
        let client = Agentplane_V1_NotificationService.Client(try peers.client(for: .notification))
        let response = try await client.notify(request, options: options)
        return [
            "delivery_id": .string(response.delivery?.id ?? ""),
            "status": .string("\(response.delivery?.status ?? .unspecified)"), "replayed": .bool(response.replayed),
        ]
    }

    private func llm(_ call: ToolCall, config: [String: JSONValue], options: CallOptions) async throws
        -> [String: JSONValue]
    {
        guard let prompt = call.arguments["prompt"]?.stringValue, !prompt.isEmpty else {
            throw argument("prompt", "an llm tool needs a non-empty string `prompt`")
        }
        var request = Agentplane_V1_ChatRequest()
        request.model = config["model"]?.stringValue ?? ""
        if let system = config["system_prompt"]?.stringValue, !system.isEmpty {
            request.messages.append(Agentplane_V1_ChatMessage(role: .system, content: system))
        }
        request.messages.append(Agentplane_V1_ChatMessage(role: .user, content: prompt))
        request.maxTokens = Int32(config["max_tokens"]?.numberValue ?? 0)
        if case .bool(let flag) = config["json_output"] { request.jsonOutput = flag }
        request.runID = call.runID
        let client = Agentplane_V1_LLMGatewayService.Client(try peers.client(for: .llmGateway))
        let response = try await client.chat(request, options: options)
        return ["content": .string(response.message?.content ?? ""), "model": .string(response.model)]
    }

    private func argument(_ name: String, _ explanation: String) -> RPCError {
        RPCError.invalidField("arguments." + name, code: "INVALID_ARGUMENT", explanation)
    }
}
