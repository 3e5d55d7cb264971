import Foundation
import LLMGateway
import RPCCore
import RPCModels
import Runtime
import ServiceTestSupport
import Testing

@Suite("LLM gateway: built-in provider")
struct BuiltinProviderTests {
    @Test("Chat answers extractively from the context, labelled as the builtin model")
    func chatExtracts() async throws {
        try await withGateway(secretBox: false) { client, _ in
            let tenant = uniqueTenant()
            let context = """
                The office is open from 9 to 17 on weekdays. To reset your VPN password, open the self-service \
                portal and choose Reset VPN password. Parking is free for visitors.
                """
            let response = try await client.chat(
                chatRequest("How do I reset my VPN password?", context: context),
                metadata: try await bearer(tenant: tenant))
            let content = response.message?.content ?? ""
            #expect(response.model == "builtin")
            #expect(response.provider == .builtin)
            #expect(content.hasPrefix("[builtin model] "))
            #expect(content.contains("To reset your VPN password, open the self-service portal"))
            #expect(!content.contains("Parking"))
            #expect(response.finishReason == .stop)
            #expect((response.usage?.promptTokens ?? 0) > 0)
            #expect((response.usage?.completionTokens ?? 0) > 0)

            // Deterministic: the same request, the same answer.
            let again = try await client.chat(
                chatRequest("How do I reset my VPN password?", context: context),
                metadata: try await bearer(tenant: tenant))
            #expect(again.message?.content == content)

            // Parameters: json_output wraps the answer, max_tokens truncates it, stop cuts it.
            var json = chatRequest("How do I reset my VPN password?", context: context)
            json.jsonOutput = true
            let wrapped = try await client.chat(json, metadata: try await bearer(tenant: tenant))
            let object = try JSONSerialization.jsonObject(with: Data((wrapped.message?.content ?? "").utf8))
            #expect((object as? [String: Any])?["answer"] as? String == content)
            var short = chatRequest("How do I reset my VPN password?", context: context)
            short.maxTokens = 5
            let truncated = try await client.chat(short, metadata: try await bearer(tenant: tenant))
            #expect(truncated.finishReason == .length)
            #expect(truncated.message?.content == String(content.prefix(20)))
            var stopped = chatRequest("How do I reset my VPN password?", context: context)
            stopped.stop = ["self-service"]
            let cut = try await client.chat(stopped, metadata: try await bearer(tenant: tenant))
            #expect(cut.message?.content.hasSuffix("open the ") == true)
        }
    }

    @Test("ChatStream sends start, deltas that add up to the answer, and end; service tokens are accepted")
    func streamBuiltin() async throws {
        try await withGateway(secretBox: false) { client, _ in
            let tenant = uniqueTenant()
            let request = chatRequest("Where is the printer?", context: "The printer is on floor 2. Lunch is at noon.")
            let items = try await collectStream(client, request, metadata: try await serviceBearer(tenant: tenant))
            #expect(items.first?.start?.model == "builtin")
            #expect(items.first?.start?.provider == .builtin)
            let text = items.compactMap { item -> String? in
                if case .contentDelta(let text)? = item.event { text } else { nil }
            }.joined()
            #expect(text == "[builtin model] The printer is on floor 2.")
            #expect(items.last?.end?.finishReason == .stop)
            #expect(items.count > 3)
        }
    }

    @Test("With tools, the builtin model calls the tool with the most word overlap; ties go to the first")
    func toolChoice() async throws {
        try await withGateway(secretBox: false) { client, _ in
            let metadata = try await bearer(tenant: uniqueTenant())
            var request = chatRequest("My laptop screen is broken, please open a ticket")
            request.tools = [
                Agentplane_V1_ModelToolSpec(name: "search_kb", description: "Search the knowledge base articles"),
                Agentplane_V1_ModelToolSpec(name: "create_ticket", description: "Open a support ticket for a problem"),
            ]
            let response = try await client.chat(request, metadata: metadata)
            #expect(response.finishReason == .toolCalls)
            #expect(response.message?.toolCalls.map(\.name) == ["create_ticket"])

            request.messages = [Agentplane_V1_ChatMessage(role: .user, content: "hello there")]
            let tie = try await client.chat(request, metadata: metadata)
            #expect(tie.message?.toolCalls.map(\.name) == ["search_kb"])
        }
    }

    @Test("Embed gives deterministic, L2-normalised 384-dimension hashed vectors that reflect lexical similarity")
    func embeddings() async throws {
        try await withGateway(secretBox: false) { client, _ in
            let metadata = try await serviceBearer(tenant: uniqueTenant())
            let texts = [
                "How to reset a VPN password", "Resetting your VPN password", "Cafeteria lunch menu for Friday",
            ]
            let response = try await client.embed(Agentplane_V1_EmbedRequest(inputs: texts), metadata: metadata)
            #expect(response.model == "builtin")
            #expect(response.dimensions == 384)
            #expect(response.embeddings.count == 3)
            for embedding in response.embeddings {
                let norm = embedding.values.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
                #expect(abs(norm - 1) < 1e-4)
            }
            let vectors = response.embeddings.map(\.values)
            #expect(cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]) + 0.2)
            let again = try await client.embed(Agentplane_V1_EmbedRequest(inputs: [texts[0]]), metadata: metadata)
            #expect(again.embeddings.first?.values == vectors[0])
            #expect((response.usage?.promptTokens ?? 0) > 0)
        }
    }

    @Test("ListModels shows the builtin model as default for chat and embeddings, filtered by capability")
    func listModels() async throws {
        try await withGateway(secretBox: false) { client, _ in
            let metadata = try await bearer(tenant: uniqueTenant())
            let models = try await client.listModels(Agentplane_V1_ListModelsRequest(), metadata: metadata).models
            #expect(models.map(\.id) == ["builtin"])
            #expect(models.first?.isDefaultChat == true)
            #expect(models.first?.isDefaultEmbedding == true)
            #expect(models.first?.embeddingDimensions == 384)
            let bad = await status { try await client.listModels(.init(pageSize: -1), metadata: metadata) }
            #expect(bad?.code == .invalidArgument)
            let token = await status {
                try await client.listModels(.init(pageToken: "garbage!"), metadata: metadata)
            }
            #expect(token?.code == .invalidArgument)
        }
    }

    @Test("Bad input: no messages, empty inputs, unknown model, bad role, too many inputs")
    func badInput() async throws {
        try await withGateway(secretBox: false) { client, _ in
            let metadata = try await bearer(tenant: uniqueTenant())
            let empty = await status { try await client.chat(Agentplane_V1_ChatRequest(), metadata: metadata) }
            #expect(empty?.code == .invalidArgument)
            #expect(empty?.message.contains("messages") == true)
            #expect(empty?.details?.violations.first?.field == "messages")

            let unknown = await status {
                try await client.chat(chatRequest("hi", model: "gpt-17"), metadata: metadata)
            }
            #expect(unknown?.code == .notFound)
            #expect(unknown?.message.contains("gpt-17") == true)

            let huge = await status {
                try await client.chat(chatRequest(String(repeating: "abcd ", count: 30_000)), metadata: metadata)
            }
            #expect(huge?.code == .resourceExhausted)
            #expect(huge?.details?.reason == "CONTEXT_WINDOW_EXCEEDED")

            var noRole = chatRequest("hi")
            noRole.messages[0].role = .unspecified
            let role = await status { try await client.chat(noRole, metadata: metadata) }
            #expect(role?.code == .invalidArgument)
            #expect(role?.message.contains("messages[0].role") == true)

            let noInputs = await status { try await client.embed(.init(inputs: []), metadata: metadata) }
            #expect(noInputs?.code == .invalidArgument)
            let blank = await status { try await client.embed(.init(inputs: ["ok", ""]), metadata: metadata) }
            #expect(blank?.message.contains("inputs[1]") == true)
            let many = await status {
                try await client.embed(.init(inputs: Array(repeating: "x", count: 257)), metadata: metadata)
            }
            #expect(many?.code == .resourceExhausted)
            let noChat = await status {
                try await client.chatStream(.init(), metadata: metadata) { stream in
                    for try await _ in stream {}
                }
            }
            #expect(noChat?.code == .invalidArgument)
        }
    }

    @Test("Invalid UTF-8 in a message is INVALID_ARGUMENT naming the field")
    func invalidUTF8() async throws {
        try await withGateway(secretBox: false) { client, harness in
            let metadata = try await bearer(tenant: uniqueTenant())
            // ChatRequest { messages { role: USER, content: <0xff 0xfe> } } by hand.
            let message: [UInt8] = [0x08, 0x02, 0x12, 0x02, 0xFF, 0xFE]
            let request: [UInt8] = [0x12, UInt8(message.count)] + message
            let error = await status {
                try await harness.client.unary(
                    Agentplane_V1_LLMGatewayService.Method.Chat.descriptor, request: request, metadata: metadata,
                    encode: { $0 }, decode: { $0 })
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains("UTF-8") == true)
        }
    }

    @Test("Roles: provider configuration needs admin; usage needs admin or a service; no token is UNAUTHENTICATED")
    func roles() async throws {
        try await withGateway(secretBox: false) { client, _ in
            let tenant = uniqueTenant()
            let member = try await bearer(role: .member, tenant: tenant)
            let denied = await status { try await client.getProviderConfig(.init(), metadata: member) }
            #expect(denied?.code == .permissionDenied)
            let service = await status {
                try await client.setProviderConfig(.init(), metadata: try await serviceBearer(tenant: tenant))
            }
            #expect(service?.code == .permissionDenied)
            let usage = await status { try await client.getUsage(.init(), metadata: member) }
            #expect(usage?.code == .permissionDenied)
            _ = try await client.getUsage(.init(), metadata: try await serviceBearer(tenant: tenant))
            let anonymous = await status { try await client.chat(chatRequest("hi")) }
            #expect(anonymous?.code == .unauthenticated)

            let config = try await client.getProviderConfig(
                .init(), metadata: try await bearer(role: .admin, tenant: tenant))
            #expect(config.config?.provider == .builtin)
            #expect(config.config?.revision == 0)
            #expect(config.config?.defaultChatModel == "builtin")
        }
    }
}
