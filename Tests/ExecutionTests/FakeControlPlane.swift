import Foundation
import RPCCore
import RPCHTTP2
import RPCModels
import Synchronization

/// The parts of the control plane the execution service calls (AgentService.GetAgent,
/// ToolService.ExecuteTool, ConversationService.AppendMessage and GetConversation,
/// TenantService.GetTenant), the LLM gateway's ChatStream and kb-search's Search, on a real gRPC
/// server on port 0.
/// Every other method of those services answers UNIMPLEMENTED. ExecuteTool honours idempotency
/// keys as the real one must: a key seen before returns the first result, and a call arriving
/// while the first with its key is still running waits for that one instead of repeating it.
final class FakeControlPlane: Sendable {
    /// One ExecuteTool call as received.
    struct ToolCall: Sendable {
        var tool: String
        var key: String
        var runID: String
        var hadCredentials: Bool
        /// The bearer token's tenant (`tid`) and acting user (`act`), read without verification.
        var tokenTenant: String
        var tokenActingUser: String
    }

    private struct State {
        var agents: [String: [Int32: String]] = [:]
        var calls: [ToolCall] = []
        var results: [String: Task<Google_Protobuf_Struct, any Error>] = [:]
        var applied: [String: Int] = [:]
        var messages: [String: Agentplane_V1_Message] = [:]
        var appendCalls = 0
        var chatRequests: [Agentplane_V1_ChatRequest] = []
        /// Conversations by id: their tenant and creator.
        var conversations: [String: (tenant: String, createdBy: String)] = [:]
        var tenantSettings: [String: Agentplane_V1_TenantSettings] = [:]
        var getTenantCalls = 0
        var unavailable = false
        /// Tools GetAgent returns with an agent when asked (`include_tools`), by agent id.
        var agentTools: [String: [Agentplane_V1_Tool]] = [:]
        var includeToolsAsked: [Bool] = []
        var searches: [(request: Agentplane_V1_SearchRequest, tenant: String)] = []
    }

    private let state = Mutex(State())
    private let server: GRPCServer

    private init(server: GRPCServer) { self.server = server }

    /// Starts the fake on a free port.
    static func start() async throws -> FakeControlPlane {
        let holder = Holder()
        let server = GRPCServer(
            configuration: ServerConfiguration(port: 0, threads: 1), services: [FakeControlServices(holder: holder)])
        let fake = FakeControlPlane(server: server)
        holder.fake.withLock { $0 = fake }
        try await server.start()
        return fake
    }

    /// `host:port` for CONTROL_ADDR.
    var address: String { "127.0.0.1:\(server.port ?? 0)" }

    func stop() async { await server.shutdown(gracePeriod: .milliseconds(200)) }

    /// Stores an agent version's flow.
    func addAgent(_ id: String, version: Int32 = 1, flow: String) {
        state.withLock { $0.agents[id, default: [:]][version] = flow }
    }

    /// Stores a conversation of `tenant` created by `createdBy`.
    func addConversation(_ id: String, tenant: String, createdBy: String) {
        state.withLock { $0.conversations[id] = (tenant, createdBy) }
    }

    /// The tools GetAgent returns with `agentID` when the caller sets `include_tools`.
    func setTools(_ tools: [Agentplane_V1_Tool], of agentID: String) {
        state.withLock { $0.agentTools[agentID] = tools }
    }

    /// `include_tools` of every GetAgent received, in order.
    var includeToolsAsked: [Bool] { state.withLock { $0.includeToolsAsked } }

    /// Every KnowledgeBaseService.Search received (the fake kb-search on the same server), with
    /// the tenant of its bearer token.
    var searches: [(request: Agentplane_V1_SearchRequest, tenant: String)] { state.withLock { $0.searches } }

    /// Answers a Search with one result.
    fileprivate func search(_ request: Agentplane_V1_SearchRequest, authorization: String?)
        -> Agentplane_V1_SearchResponse
    {
        state.withLock { $0.searches.append((request, Self.claims(authorization)["tid"] as? String ?? "")) }
        var result = Agentplane_V1_SearchResult()
        result.score = 0.9
        result.documentID = "doc-1"
        result.title = "Password reset"
        result.chunkID = "1"
        result.text = "Reset it from the sign-in page."
        var response = Agentplane_V1_SearchResponse()
        response.mode = request.mode
        response.results = [result]
        return response
    }

    /// Sets what GetTenant answers for `tenant` (by default: no settings).
    func setTenantSettings(_ tenant: String, _ settings: Agentplane_V1_TenantSettings) {
        state.withLock { $0.tenantSettings[tenant] = settings }
    }

    /// GetTenant calls received.
    var getTenantCalls: Int { state.withLock { $0.getTenantCalls } }

    /// When true, GetTenant and GetConversation answer UNAVAILABLE.
    func setUnavailable(_ value: Bool) { state.withLock { $0.unavailable = value } }

    fileprivate func getTenant(authorization: String?) throws -> Agentplane_V1_GetTenantResponse {
        let tenant = Self.claims(authorization)["tid"] as? String ?? ""
        let settings = try state.withLock { state -> Agentplane_V1_TenantSettings in
            if state.unavailable { throw RPCError(code: .unavailable, message: "the fake is down") }
            state.getTenantCalls += 1
            return state.tenantSettings[tenant] ?? .init()
        }
        var response = Agentplane_V1_GetTenantResponse()
        var out = Agentplane_V1_Tenant()
        out.id = tenant
        out.settings = settings
        response.tenant = out
        return response
    }

    /// As the real one answers a service token: any conversation of the token's tenant.
    fileprivate func getConversation(_ request: Agentplane_V1_GetConversationRequest, authorization: String?) throws
        -> Agentplane_V1_GetConversationResponse
    {
        let claims = Self.claims(authorization)
        let tenant = claims["tid"] as? String ?? ""
        let stored = try state.withLock { state in
            if state.unavailable { throw RPCError(code: .unavailable, message: "the fake is down") }
            return state.conversations[request.conversationID]
        }
        guard claims["role"] as? String == "service",
            let stored, stored.tenant == tenant
        else { throw RPCError(code: .notFound, message: "no conversation \(request.conversationID)") }
        var conversation = Agentplane_V1_Conversation()
        conversation.id = request.conversationID
        conversation.createdBy = stored.createdBy
        var response = Agentplane_V1_GetConversationResponse()
        response.conversation = conversation
        return response
    }

    /// Every ExecuteTool call received, in order.
    var toolCalls: [ToolCall] { state.withLock { $0.calls } }
    /// How many times each idempotency key's side effect was applied.
    var applied: [String: Int] { state.withLock { $0.applied } }
    /// Saved messages by idempotency key.
    var messages: [String: Agentplane_V1_Message] { state.withLock { $0.messages } }
    /// AppendMessage calls received (including replays).
    var appendCalls: Int { state.withLock { $0.appendCalls } }

    /// ChatStream requests received (the fake LLM gateway on the same server).
    var chatRequests: [Agentplane_V1_ChatRequest] { state.withLock { $0.chatRequests } }

    /// Answers a ChatStream: start, two deltas, end with usage 7 + 2.
    fileprivate func chatStream(_ request: Agentplane_V1_ChatStreamRequest) -> [Agentplane_V1_ChatStreamResponse] {
        state.withLock { $0.chatRequests.append(request.chat ?? .init()) }
        var start = Agentplane_V1_ChatStreamStart()
        start.model = "fake-model"
        var end = Agentplane_V1_ChatStreamEnd()
        var usage = Agentplane_V1_TokenUsage()
        usage.promptTokens = 7
        usage.completionTokens = 2
        usage.totalTokens = 9
        end.usage = usage
        let events: [Agentplane_V1_ChatStreamResponse.OneOf_Event] = [
            .start(start), .contentDelta("Gateway "), .contentDelta("answer."), .end(end),
        ]
        return events.map { event in
            var response = Agentplane_V1_ChatStreamResponse()
            response.event = event
            return response
        }
    }

    fileprivate func getAgent(_ request: Agentplane_V1_GetAgentRequest) throws -> Agentplane_V1_GetAgentResponse {
        let versions = state.withLock { $0.agents[request.agentID] } ?? [:]
        let version = request.version == 0 ? (versions.keys.max() ?? 0) : request.version
        guard let flow = versions[version] else {
            throw RPCError(code: .notFound, message: "no agent \(request.agentID) version \(request.version)")
        }
        var agent = Agentplane_V1_Agent()
        agent.id = request.agentID
        agent.version = version
        agent.latestVersion = versions.keys.max() ?? version
        agent.flowJSON = flow
        var response = Agentplane_V1_GetAgentResponse()
        response.agent = agent
        response.tools = state.withLock { state in
            state.includeToolsAsked.append(request.includeTools)
            return request.includeTools ? state.agentTools[request.agentID] ?? [] : []
        }
        return response
    }

    fileprivate func executeTool(_ request: Agentplane_V1_ExecuteToolRequest, authorization: String?) async throws
        -> Agentplane_V1_ExecuteToolResponse
    {
        let claims = Self.claims(authorization)
        let call = ToolCall(
            tool: request.toolID, key: request.idempotencyKey, runID: request.runID,
            hadCredentials: authorization != nil, tokenTenant: claims["tid"] as? String ?? "",
            tokenActingUser: claims["act"] as? String ?? "")
        let (task, replayed) = state.withLock { state -> (Task<Google_Protobuf_Struct, any Error>, Bool) in
            state.calls.append(call)
            if let existing = state.results[request.idempotencyKey] { return (existing, true) }
            // Unstructured: the side effect completes even when the calling replica dies.
            let task = Task { try await self.apply(request) }
            state.results[request.idempotencyKey] = task
            return (task, false)
        }
        var response = Agentplane_V1_ExecuteToolResponse()
        response.result = try await task.value
        response.replayed = replayed
        return response
    }

    /// The claims of a `Bearer <jwt>` value (unverified: the fake only reports what it was sent).
    private static func claims(_ authorization: String?) -> [String: Any] {
        guard let token = authorization?.split(separator: " ").last else { return [:] }
        let parts = token.split(separator: ".")
        guard parts.count == 3 else { return [:] }
        var base64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [:] }
        return object
    }

    private func apply(_ request: Agentplane_V1_ExecuteToolRequest) async throws -> Google_Protobuf_Struct {
        let arguments = request.arguments?.fields ?? [:]
        switch request.toolID {
        case "slow":
            let delay = arguments["delay_ms"]?.numberValue ?? 1500
            try await Task.sleep(for: .milliseconds(Int(delay)))
        case "fail":
            throw RPCError(code: .failedPrecondition, message: "this tool always fails")
        case "kb":
            return Self.knowledgeBaseResult(count: Int(arguments["count"]?.numberValue ?? 3))
        default:
            break
        }
        state.withLock { $0.applied[request.idempotencyKey, default: 0] += 1 }
        var result = Google_Protobuf_Struct()
        result.fields["tool"] = Google_Protobuf_Value(kind: .stringValue(request.toolID))
        result.fields["echo"] = Google_Protobuf_Value(kind: .structValue(request.arguments ?? .init()))
        return result
    }

    /// What a kb_search tool answers: `count` chunks of document doc-<n / 2> (so every other one
    /// is a second chunk of the same document), each 3,000 characters long, plus chunk 1 of
    /// doc-0 again at the end (a duplicate) when there is any.
    static func knowledgeBaseResult(count: Int) -> Google_Protobuf_Struct {
        func value(_ kind: Google_Protobuf_Value.OneOf_Kind) -> Google_Protobuf_Value {
            Google_Protobuf_Value(kind: kind)
        }
        func chunk(_ index: Int) -> Google_Protobuf_Value {
            var entry = Google_Protobuf_Struct()
            entry.fields["document_id"] = value(.stringValue("doc-\(index / 2)"))
            entry.fields["chunk_id"] = value(.numberValue(Double(index % 2 + 1)))
            entry.fields["title"] = value(.stringValue("Document \(index / 2)"))
            entry.fields["score"] = value(.numberValue(Double(100 - index)))
            entry.fields["text"] = value(.stringValue(String(repeating: "t", count: 3_000)))
            var path = Google_Protobuf_ListValue()
            path.values = [value(.stringValue("Heading"))]
            entry.fields["heading_path"] = value(.listValue(path))
            return value(.structValue(entry))
        }
        var results = Google_Protobuf_ListValue()
        results.values = (0..<count).map(chunk) + (count > 0 ? [chunk(0)] : [])
        var result = Google_Protobuf_Struct()
        result.fields["results"] = value(.listValue(results))
        return result
    }

    fileprivate func appendMessage(_ request: Agentplane_V1_AppendMessageRequest) -> Agentplane_V1_AppendMessageResponse
    {
        state.withLock { state in
            state.appendCalls += 1
            var response = Agentplane_V1_AppendMessageResponse()
            if let existing = state.messages[request.idempotencyKey] {
                response.message = existing
                response.replayed = true
                return response
            }
            var message = Agentplane_V1_Message()
            message.id = "msg-\(state.messages.count + 1)"
            message.conversationID = request.conversationID
            message.role = request.role
            message.content = request.content
            message.runID = request.runID
            message.metadata = request.metadata
            message.createdAt = Google_Protobuf_Timestamp(date: Date())
            state.messages[request.idempotencyKey] = message
            response.message = message
            return response
        }
    }
}

private final class Holder: Sendable {
    let fake = Mutex<FakeControlPlane?>(nil)
}

/// The three control-plane services, exposing only the methods the execution service calls.
private struct FakeControlServices: RegistrableService {
    let holder: Holder

    private var fake: FakeControlPlane {
        guard let fake = holder.fake.withLock({ $0 }) else { preconditionFailure("the fake is not set") }
        return fake
    }

    var serverMethods: [ServerMethod] {
        [
            Self.unary(Agentplane_V1_AgentService.Method.GetAgent.self) { request, _ in try fake.getAgent(request) },
            Self.unary(Agentplane_V1_ToolService.Method.ExecuteTool.self) { request, context in
                try await fake.executeTool(
                    request, authorization: context.metadata.firstString(forKey: "authorization"))
            },
            Self.unary(Agentplane_V1_ConversationService.Method.AppendMessage.self) { request, _ in
                fake.appendMessage(request)
            },
            Self.unary(Agentplane_V1_ConversationService.Method.GetConversation.self) { request, context in
                try fake.getConversation(request, authorization: context.metadata.firstString(forKey: "authorization"))
            },
            Self.unary(Agentplane_V1_KnowledgeBaseService.Method.Search.self) { request, context in
                fake.search(request, authorization: context.metadata.firstString(forKey: "authorization"))
            },
            Self.unary(Agentplane_V1_TenantService.Method.GetTenant.self) { _, context in
                try fake.getTenant(authorization: context.metadata.firstString(forKey: "authorization"))
            },
            ServerMethod(descriptor: Agentplane_V1_LLMGatewayService.Method.ChatStream.descriptor) {
                source, sink, _ in
                let request = try Agentplane_V1_LLMGatewayService.Method.ChatStream.decodeRequest(
                    try await source.singleMessage())
                for item in fake.chatStream(request) { try await sink.writeMessage(item.serializedBytes()) }
            },
        ]
    }

    private static func unary<M: ProtoMethod>(
        _ method: M.Type, _ body: @escaping @Sendable (M.Input, ServerContext) async throws -> M.Output
    ) -> ServerMethod {
        ServerMethod(descriptor: M.descriptor) { source, sink, context in
            let request = try M.decodeRequest(try await source.singleMessage())
            try await sink.writeMessage(try await body(request, context).serializedBytes())
        }
    }
}
