import Foundation
import LLMGateway
import RPCCore
import RPCModels
import Runtime
import RuntimePostgres
import RuntimeSecurity
import ServiceTestSupport
import Synchronization
import Testing

@Suite("LLM gateway: OpenAI-compatible provider")
struct OpenAIProviderTests {
    @Test("Chat goes to /v1/chat/completions with the tenant's key; the key is never returned")
    func chatAndSecrets() async throws {
        let server = try await FakeOpenAIServer.start()
        defer { Task { await server.stop() } }
        try await withGateway { client, _ in
            let tenant = uniqueTenant()
            let config = try await configureOpenAI(client, tenant: tenant, server: server, models: ["echo", "embed"])
            #expect(config.apiKeySet)
            #expect(config.revision == 1)
            #expect(config.provider == .openaiCompatible)
            #expect(config.defaultChatModel == "echo")
            #expect(config.defaultEmbeddingModel == "embed")

            let admin = try await bearer(role: .admin, tenant: tenant)
            let read = try await client.getProviderConfig(.init(), metadata: admin).config
            #expect(read?.apiKeySet == true)
            #expect(!"\(read!)".contains("sk-test-secret"))

            let response = try await client.chat(chatRequest("ping"), metadata: try await bearer(tenant: tenant))
            #expect(response.message?.content == "echo: ping")
            #expect(response.model == "echo")
            #expect(response.provider == .openaiCompatible)
            #expect(response.usage?.promptTokens == 11)
            #expect(response.usage?.completionTokens == 7)
            let sent = server.requests.last
            #expect(sent?.path == "/v1/chat/completions")
            #expect(sent?.headers["authorization"] == "Bearer sk-test-secret")
            #expect(sent?.model == "echo")

            // The builtin model stays available next to the routes.
            let builtin = try await client.chat(chatRequest("ping", model: "builtin"), metadata: admin)
            #expect(builtin.provider == .builtin)

            // Keeping the key: an empty api_key leaves it; clear_api_key removes it.
            var keep = Agentplane_V1_SetProviderConfigRequest()
            keep.provider = .openaiCompatible
            keep.baseURL = server.baseURL
            keep.routes = [Agentplane_V1_ModelRoute(model: "echo", upstreamModel: "echo")]
            keep.expectedRevision = 1
            let kept = try await client.setProviderConfig(keep, metadata: admin).config
            #expect(kept?.apiKeySet == true)
            #expect(kept?.revision == 2)
            let stale = await status { try await client.setProviderConfig(keep, metadata: admin) }
            #expect(stale?.code == .aborted)
            keep.expectedRevision = 0
            keep.clearAPIKey = true
            let cleared = try await client.setProviderConfig(keep, metadata: admin).config
            #expect(cleared?.apiKeySet == false)
            let noKey = await status { try await client.chat(chatRequest("ping"), metadata: admin) }
            #expect(noKey?.code == .failedPrecondition)
            #expect(noKey?.message.contains("api_key") == true)
        }
        await server.stop()
    }

    @Test("ChatStream relays SSE deltas, tool calls and usage until [DONE]")
    func streaming() async throws {
        let server = try await FakeOpenAIServer.start()
        try await withGateway { client, _ in
            let tenant = uniqueTenant()
            try await configureOpenAI(client, tenant: tenant, server: server, models: ["echo", "tools"])
            let metadata = try await serviceBearer(tenant: tenant)
            let items = try await collectStream(client, chatRequest("hello world"), metadata: metadata)
            #expect(items.first?.start?.model == "echo")
            let text = items.compactMap { item -> String? in
                if case .contentDelta(let text)? = item.event { text } else { nil }
            }
            #expect(text.joined() == "echo: hello world")
            #expect(text.count == 2)
            #expect(items.last?.end?.finishReason == .stop)
            #expect(items.last?.end?.usage?.totalTokens == 18)
            #expect(server.requests.last?.body["stream"] as? Bool == true)

            var toolRequest = chatRequest("vpn?", model: "tools")
            toolRequest.tools = [Agentplane_V1_ModelToolSpec(name: "lookup", description: "look up")]
            let toolItems = try await collectStream(client, toolRequest, metadata: metadata)
            let call = toolItems.compactMap(\.toolCall).first
            #expect(call?.name == "lookup")
            #expect(call?.id == "call_1")
            #expect(call?.arguments?.fields["q"]?.stringValue == "vpn")
            #expect(toolItems.last?.end?.finishReason == .toolCalls)

            let unary = try await client.chat(toolRequest, metadata: metadata)
            #expect(unary.message?.toolCalls.first?.arguments?.fields["q"]?.stringValue == "vpn")
            #expect(unary.finishReason == .toolCalls)
        }
        await server.stop()
    }

    @Test("A 429 with Retry-After is retried after the delay; embeddings come back in input order")
    func retryAfter429() async throws {
        let server = try await FakeOpenAIServer.start()
        try await withGateway { client, _ in
            let tenant = uniqueTenant()
            try await configureOpenAI(client, tenant: tenant, server: server, models: ["flaky-429", "embed"])
            let started = ContinuousClock.now
            let response = try await client.chat(chatRequest("again"), metadata: try await bearer(tenant: tenant))
            #expect(response.message?.content == "echo: again")
            #expect(ContinuousClock.now - started >= .milliseconds(950))
            #expect(server.requests.filter { $0.model == "flaky-429" }.count == 2)

            let embedded = try await client.embed(
                .init(inputs: ["a", "bbb"]), metadata: try await bearer(tenant: tenant))
            #expect(embedded.embeddings.map(\.values) == [[1, 1, 0], [3, 1, 0]])
            #expect(embedded.dimensions == 3)
            #expect(embedded.usage?.promptTokens == 5)
        }
        await server.stop()
    }

    @Test("Upstream faults: 5xx → UNAVAILABLE after retries, 429, 400 → INVALID_ARGUMENT, malformed → UNAVAILABLE")
    func faults() async throws {
        let server = try await FakeOpenAIServer.start()
        try await withGateway { client, _ in
            let tenant = uniqueTenant()
            try await configureOpenAI(
                client, tenant: tenant, server: server,
                models: ["always-500", "bad-request", "malformed", "always-429", "always-503"])
            let metadata = try await bearer(tenant: tenant)
            let down = await status { try await client.chat(chatRequest("x", model: "always-500"), metadata: metadata) }
            #expect(down?.code == .unavailable)
            #expect(down?.message.contains("boom") == true)
            #expect(server.requests.filter { $0.model == "always-500" }.count == 3)

            let overloaded = await status {
                try await collectStream(client, chatRequest("x", model: "always-503"), metadata: metadata)
            }
            #expect(overloaded?.code == .unavailable)
            #expect(server.requests.filter { $0.model == "always-503" }.count == 3)

            // Retry-After beyond what the gateway waits: no retry, the caller is told when to come back.
            let started = ContinuousClock.now
            let limited = await status {
                try await client.chat(chatRequest("x", model: "always-429"), metadata: metadata)
            }
            #expect(limited?.code == .unavailable)
            #expect(limited?.details?.retryAfter?.duration == .seconds(30))
            #expect(limited?.metadata.firstString(forKey: "retry-after-ms") == "30000")
            #expect(ContinuousClock.now - started < .seconds(2))
            #expect(server.requests.filter { $0.model == "always-429" }.count == 1)

            let bad = await status { try await client.chat(chatRequest("x", model: "bad-request"), metadata: metadata) }
            #expect(bad?.code == .invalidArgument)
            #expect(bad?.message.contains("max_tokens is too large") == true)
            #expect(server.requests.filter { $0.model == "bad-request" }.count == 1)

            let malformed = await status {
                try await client.chat(chatRequest("x", model: "malformed"), metadata: metadata)
            }
            #expect(malformed?.code == .unavailable)
            #expect(malformed?.message.contains("malformed") == true)
            let malformedStream = await status {
                try await collectStream(client, chatRequest("x", model: "malformed"), metadata: metadata)
            }
            #expect(malformedStream?.code == .unavailable)
        }
        await server.stop()
    }

    @Test("An unreachable provider is retried, then UNAVAILABLE")
    func unreachable() async throws {
        try await withGateway { client, _ in
            let tenant = uniqueTenant()
            var request = Agentplane_V1_SetProviderConfigRequest()
            request.provider = .openaiCompatible
            request.baseURL = "http://127.0.0.1:1/v1"
            request.apiKey = "sk-x"
            request.routes = [Agentplane_V1_ModelRoute(model: "gone", upstreamModel: "gone")]
            _ = try await client.setProviderConfig(request, metadata: try await bearer(role: .admin, tenant: tenant))
            let error = await status {
                try await client.chat(chatRequest("x"), metadata: try await bearer(tenant: tenant))
            }
            #expect(error?.code == .unavailable)
            #expect(error?.message.contains("unreachable") == true)
            let usage = try await client.getUsage(.init(), metadata: try await bearer(role: .admin, tenant: tenant))
            #expect(usage.buckets.first?.failedRequests == 1)
        }
    }

    @Test("A stalled stream, or a provider that never answers, ends with DEADLINE_EXCEEDED after request_timeout")
    func stalledStream() async throws {
        let server = try await FakeOpenAIServer.start()
        try await withGateway { client, _ in
            let tenant = uniqueTenant()
            try await configureOpenAI(client, tenant: tenant, server: server, models: ["stall"], timeout: .seconds(1))
            let started = ContinuousClock.now
            let received = ReceivedItems()
            let error = await status {
                try await client.chatStream(
                    .init(chat: chatRequest("x")), metadata: try await bearer(tenant: tenant)
                ) { stream in
                    for try await item in stream { received.append(item) }
                }
            }
            #expect(error?.code == .deadlineExceeded)
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(received.items.first?.start != nil)
            #expect(received.items.contains { $0.contentDelta == "partial" })

            // Unary: the provider never answers; the per-call timeout ends the call.
            let unaryStarted = ContinuousClock.now
            let unary = await status {
                try await client.chat(chatRequest("x"), metadata: try await bearer(tenant: tenant))
            }
            #expect(unary?.code == .deadlineExceeded)
            #expect(unary?.message.contains("request_timeout") == true)
            #expect(ContinuousClock.now - unaryStarted < .seconds(5))
        }
        await server.stop()
    }

    @Test("Cancelling a ChatStream cancels the upstream request")
    func cancellation() async throws {
        let server = try await FakeOpenAIServer.start()
        try await withGateway { client, _ in
            let tenant = uniqueTenant()
            try await configureOpenAI(client, tenant: tenant, server: server, models: ["slow-stream"])
            let metadata = try await bearer(tenant: tenant)
            let task = Task {
                try await client.chatStream(.init(chat: chatRequest("x")), metadata: metadata) { stream in
                    var deltas = 0
                    for try await item in stream where item.contentDelta.hasPrefix("tick") {
                        deltas += 1
                        if deltas == 2 { return deltas }
                    }
                    return deltas
                }
            }
            #expect(try await task.value == 2)
            // Leaving the stream early cancels the call; the gateway must drop the upstream request.
            var closed = false
            for _ in 0..<50 where !closed {
                try await Task.sleep(for: .milliseconds(100))
                closed = server.closedConnections > 0
            }
            #expect(closed)
        }
        await server.stop()
    }

    @Test("SetProviderConfig validates base_url, routes and defaults; a key needs SECRET_BOX_KEYS")
    func configValidation() async throws {
        try await withGateway(secretBox: false) { client, _ in
            let tenant = uniqueTenant()
            let admin = try await bearer(role: .admin, tenant: tenant)
            var request = Agentplane_V1_SetProviderConfigRequest()
            request.provider = .openaiCompatible
            let missing = await status { try await client.setProviderConfig(request, metadata: admin) }
            #expect(missing?.code == .invalidArgument)
            #expect(missing?.details?.violations.map(\.field).contains("base_url") == true)

            request.baseURL = "ftp://example.com"
            request.routes = [
                Agentplane_V1_ModelRoute(model: "a", upstreamModel: "a"),
                Agentplane_V1_ModelRoute(model: "a", upstreamModel: "b"),
            ]
            request.defaultChatModel = "zzz"
            let many = await status { try await client.setProviderConfig(request, metadata: admin) }
            let fields = many?.details?.violations.map(\.field) ?? []
            #expect(fields.contains("base_url"))
            #expect(fields.contains("routes[1].model"))
            #expect(fields.contains("default_chat_model"))

            request.baseURL = "https://api.example.com/v1"
            request.routes = [Agentplane_V1_ModelRoute(model: "a", upstreamModel: "a")]
            request.defaultChatModel = ""
            request.apiKey = "sk-x"
            let noBox = await status { try await client.setProviderConfig(request, metadata: admin) }
            #expect(noBox?.code == .failedPrecondition)
            #expect(noBox?.message.contains("SECRET_BOX_KEYS") == true)

            // Without a key the configuration is stored; the builtin provider still works.
            request.apiKey = ""
            let stored = try await client.setProviderConfig(request, metadata: admin).config
            #expect(stored?.apiKeySet == false)
            let builtin = try await client.chat(chatRequest("hi", model: "builtin"), metadata: admin)
            #expect(builtin.provider == .builtin)
        }
    }
}

/// Items received by a stream handler, readable after it failed.
final class ReceivedItems: Sendable {
    private let storage = Mutex<[Agentplane_V1_ChatStreamResponse]>([])
    func append(_ item: Agentplane_V1_ChatStreamResponse) { storage.withLock { $0.append(item) } }
    var items: [Agentplane_V1_ChatStreamResponse] { storage.withLock { $0 } }
}

@Suite("LLM gateway: provider kinds and secrets at rest")
struct ProviderKindTests {
    @Test("OLLAMA speaks Ollama's native /api/chat and /api/embed at the server root, without a key")
    func ollama() async throws {
        let server = try await FakeOpenAIServer.start()
        try await withGateway(secretBox: false) { client, _ in
            let tenant = uniqueTenant()
            var request = Agentplane_V1_SetProviderConfigRequest()
            request.provider = .ollama
            request.baseURL = "http://127.0.0.1:\(server.port)"
            request.routes = [
                Agentplane_V1_ModelRoute(model: "llama", upstreamModel: "echo", capabilities: [.chat, .tools]),
                Agentplane_V1_ModelRoute(model: "llama-tools", upstreamModel: "tools", capabilities: [.chat, .tools]),
                Agentplane_V1_ModelRoute(model: "nomic", upstreamModel: "embed", capabilities: [.embedding]),
                Agentplane_V1_ModelRoute(model: "broken", upstreamModel: "always-500"),
            ]
            let config = try await client.setProviderConfig(
                request, metadata: try await bearer(role: .admin, tenant: tenant)
            ).config
            #expect(config?.defaultChatModel == "llama")
            #expect(config?.defaultEmbeddingModel == "nomic")
            let metadata = try await bearer(tenant: tenant)
            let response = try await client.chat(chatRequest("hi"), metadata: metadata)
            #expect(response.message?.content == "echo: hi")
            #expect(response.model == "llama")
            #expect(response.upstreamModel == "echo")
            #expect(response.provider == .ollama)
            #expect(response.usage?.promptTokens == 9)
            #expect(response.usage?.completionTokens == 4)
            #expect(server.requests.last?.path == "/api/chat")
            #expect(server.requests.last?.headers["authorization"] == nil)

            let items = try await collectStream(client, chatRequest("there"), metadata: metadata)
            let text = items.compactMap { item -> String? in
                if case .contentDelta(let text)? = item.event { text } else { nil }
            }
            #expect(text == ["echo", ": ", "there"])
            #expect(items.first?.start?.provider == .ollama)
            #expect(items.last?.end?.usage?.totalTokens == 13)

            var toolRequest = chatRequest("vpn?", model: "llama-tools")
            toolRequest.tools = [Agentplane_V1_ModelToolSpec(name: "lookup", description: "look up")]
            let toolReply = try await client.chat(toolRequest, metadata: metadata)
            #expect(toolReply.finishReason == .toolCalls)
            #expect(toolReply.message?.toolCalls.first?.arguments?.fields["q"]?.stringValue == "vpn")
            let toolItems = try await collectStream(client, toolRequest, metadata: metadata)
            #expect(toolItems.compactMap(\.toolCall).map(\.name) == ["lookup"])
            #expect(toolItems.last?.end?.finishReason == .toolCalls)

            let embedded = try await client.embed(.init(inputs: ["ab", "abcd"]), metadata: metadata)
            #expect(embedded.embeddings.map(\.values) == [[2, 2, 0], [4, 2, 0]])
            #expect(server.requests.last?.path == "/api/embed")

            let broken = await status { try await client.chat(chatRequest("x", model: "broken"), metadata: metadata) }
            #expect(broken?.code == .unavailable)
            #expect(broken?.message.contains("model crashed") == true)
        }
        await server.stop()
    }

    @Test("The stored API key is sealed: the plaintext is not in the database, and it opens only for its tenant")
    func keySealedAtRest() async throws {
        let server = try await FakeOpenAIServer.start()
        try await withGateway { client, _ in
            let tenant = uniqueTenant()
            let plaintext = "sk-plaintext-\(UUID().uuidString)"
            try await configureOpenAI(client, tenant: tenant, server: server, models: ["echo"], apiKey: plaintext)
            let pool = PostgresPool(configuration: .init(connectionString: testDatabaseURL, maximumConnections: 1))
            defer { pool.close() }
            let rows = try await pool.query(
                "SELECT api_key_sealed, config::text AS config FROM llm.provider_configs WHERE tenant_id = $1", tenant)
            let sealed = try #require(rows.first?["api_key_sealed"])
            #expect(!sealed.contains(plaintext))
            #expect(rows.first?["config"]?.contains(plaintext) == false)
            let box = try SecretBox(configuration: testSecretBoxKeys)
            let origin = "http://127.0.0.1:\(server.port)"
            #expect(try box.openString(sealed, context: "\(tenant)/llm/provider/api_key|origin=\(origin)") == plaintext)
            #expect(throws: SecretBoxError.self) {
                try box.openString(sealed, context: "other-tenant/llm/provider/api_key|origin=\(origin)")
            }
            // Bound to its origin too: the context of another origin does not open it.
            #expect(throws: SecretBoxError.self) {
                try box.openString(sealed, context: "\(tenant)/llm/provider/api_key|origin=https://evil.example:443")
            }
        }
        await server.stop()
    }
}
