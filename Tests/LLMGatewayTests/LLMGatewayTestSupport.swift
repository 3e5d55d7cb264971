import Foundation
import LLMGateway
import RPCCore
import RPCModels
import Runtime
import RuntimeSecurity
import ServiceTestSupport
import Testing

/// A 32-byte key, base64, for the secret box of the gateway under test.
let testSecretBoxKeys = "k1:" + Data(repeating: 7, count: 32).base64EncodedString()

/// Starts the gateway in-process with loopback allowed for outbound calls, fast retries and a
/// secret box (unless `secretBox` is false), runs `body`, and stops it.
func withGateway<T>(
    secretBox: Bool = true, environment: [String: String] = [:],
    _ body: (Agentplane_V1_LLMGatewayService.Client, ServiceTestHarness) async throws -> T
) async throws -> T {
    var variables = [
        "OUTBOUND_ALLOW_HOSTS": "127.0.0.1,localhost", "LLM_RETRY_BASE_DELAY": "20ms", "LLM_MAX_RETRIES": "2",
    ]
    if secretBox { variables["SECRET_BOX_KEYS"] = testSecretBoxKeys }
    let harness = try await ServiceTestHarness.start(
        LLMGatewayService.definition, environment: variables.merging(environment) { $1 })
    do {
        let result = try await body(Agentplane_V1_LLMGatewayService.Client(harness.client), harness)
        try await harness.stop()
        return result
    } catch {
        try? await harness.stop()
        throw error
    }
}

/// A tenant id no other test uses.
func uniqueTenant(_ label: String = "llm") -> String {
    "\(label)-\(UUID().uuidString.lowercased())"
}

/// The status `body` failed with; records an issue when it succeeded or threw something else.
func status<T>(_ body: () async throws -> T, sourceLocation: SourceLocation = #_sourceLocation) async -> RPCError? {
    do {
        _ = try await body()
        Issue.record("expected the call to fail", sourceLocation: sourceLocation)
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        Issue.record("expected an RPCError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// A chat request with a system context and one user question.
func chatRequest(_ question: String, context: String? = nil, model: String = "") -> Agentplane_V1_ChatRequest {
    var messages: [Agentplane_V1_ChatMessage] = []
    if let context { messages.append(Agentplane_V1_ChatMessage(role: .system, content: context)) }
    messages.append(Agentplane_V1_ChatMessage(role: .user, content: question))
    return Agentplane_V1_ChatRequest(model: model, messages: messages)
}

/// Sets an OpenAI-compatible configuration pointing at `server`, routing each of `models` to
/// the upstream model of the same name.
@discardableResult
func configureOpenAI(
    _ client: Agentplane_V1_LLMGatewayService.Client, tenant: String, server: FakeOpenAIServer,
    models: [String], apiKey: String = "sk-test-secret", timeout: Duration = .seconds(5),
    limits: Agentplane_V1_RateLimits? = nil
) async throws -> Agentplane_V1_ProviderConfig {
    var request = Agentplane_V1_SetProviderConfigRequest()
    request.provider = .openaiCompatible
    request.baseURL = server.baseURL
    request.apiKey = apiKey
    request.routes = models.map {
        Agentplane_V1_ModelRoute(
            model: $0, upstreamModel: $0,
            capabilities: $0 == "embed" ? [.embedding] : [.chat, .tools], contextWindow: 0, embeddingDimensions: 0)
    }
    request.defaultChatModel = models.first { $0 != "embed" } ?? ""
    request.requestTimeout = Google_Protobuf_Duration(timeout)
    request.limits = limits
    return try await client.setProviderConfig(request, metadata: try await bearer(role: .admin, tenant: tenant))
        .config ?? Agentplane_V1_ProviderConfig()
}

/// All items of a ChatStream.
func collectStream(
    _ client: Agentplane_V1_LLMGatewayService.Client, _ request: Agentplane_V1_ChatRequest, metadata: Metadata
) async throws -> [Agentplane_V1_ChatStreamResponse] {
    try await client.chatStream(Agentplane_V1_ChatStreamRequest(chat: request), metadata: metadata) { stream in
        var items: [Agentplane_V1_ChatStreamResponse] = []
        for try await item in stream { items.append(item) }
        return items
    }
}

/// Cosine similarity of two L2-normalised vectors.
func cosine(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(Float(0)) { $0 + $1.0 * $1.1 }
}
