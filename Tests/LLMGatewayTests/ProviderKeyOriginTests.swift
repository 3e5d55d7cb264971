import Foundation
import LLMGateway
import RPCCore
import RPCModels
import Runtime
import RuntimePostgres
import RuntimeSecurity
import ServiceTestSupport
import Testing

@Suite("LLM gateway: the provider key stays with its origin; hostile provider numbers")
struct ProviderKeyOriginTests {
    /// A configuration of `baseURL` routing `echo`, optionally with a key.
    static func config(_ baseURL: String, apiKey: String = "", clear: Bool = false)
        -> Agentplane_V1_SetProviderConfigRequest
    {
        var request = Agentplane_V1_SetProviderConfigRequest()
        request.provider = .openaiCompatible
        request.baseURL = baseURL
        request.apiKey = apiKey
        request.clearAPIKey = clear
        request.routes = [Agentplane_V1_ModelRoute(model: "echo", upstreamModel: "echo")]
        return request
    }

    @Test("SetProviderConfig refuses to point the stored key at another origin unless the key is sent again")
    func keyFollowsOnlyItsOrigin() async throws {
        let home = try await FakeOpenAIServer.start()
        let stranger = try await FakeOpenAIServer.start()
        try await withGateway { client, _ in
            let tenant = uniqueTenant()
            let admin = try await bearer(role: .admin, tenant: tenant)
            try await configureOpenAI(client, tenant: tenant, server: home, models: ["echo"], apiKey: "sk-home")

            for url in [stranger.baseURL, "http://localhost:\(home.port)/v1", "https://127.0.0.1:\(home.port)/v1"] {
                let refused = await status { try await client.setProviderConfig(Self.config(url), metadata: admin) }
                #expect(refused?.code == .failedPrecondition, "\(url)")
                #expect(refused?.details?.reason == "PROVIDER_KEY_BOUND_TO_ORIGIN", "\(url)")
            }
            // The builtin provider sends nothing, but the key would be kept for a later URL: refused too.
            var builtin = Agentplane_V1_SetProviderConfigRequest()
            builtin.provider = .builtin
            #expect(
                await status { try await client.setProviderConfig(builtin, metadata: admin) }?.code
                    == .failedPrecondition)
            let unchanged = try await client.getProviderConfig(.init(), metadata: admin).config
            #expect(unchanged?.revision == 1 && unchanged?.baseURL == home.baseURL)

            // Same origin, another path: the key stays.
            _ = try await client.setProviderConfig(Self.config("http://127.0.0.1:\(home.port)/v1/"), metadata: admin)
            _ = try await client.chat(chatRequest("ping"), metadata: admin)
            #expect(home.requests.last?.headers["authorization"] == "Bearer sk-home")

            // Sent again with the new URL, the key moves; cleared, it may go anywhere (there is none).
            _ = try await client.setProviderConfig(Self.config(stranger.baseURL, apiKey: "sk-new"), metadata: admin)
            _ = try await client.chat(chatRequest("ping"), metadata: admin)
            #expect(stranger.requests.last?.headers["authorization"] == "Bearer sk-new")
            _ = try await client.setProviderConfig(Self.config(home.baseURL, clear: true), metadata: admin)
            #expect(try await client.setProviderConfig(builtin, metadata: admin).config?.apiKeySet == false)
        }
        await home.stop()
        await stranger.stop()
    }

    @Test("The gateway sends no key to an origin it was not saved for, nor a key saved before origins were bound")
    func keyIsNotSentElsewhere() async throws {
        let home = try await FakeOpenAIServer.start()
        let stranger = try await FakeOpenAIServer.start()
        // The rows change behind the gateway's back: read on every call, not kept for a second.
        try await withGateway(environment: ["LLM_PROVIDER_CONFIG_CACHE_TTL": "0"]) { client, _ in
            let tenant = uniqueTenant()
            let admin = try await bearer(role: .admin, tenant: tenant)
            try await configureOpenAI(client, tenant: tenant, server: home, models: ["echo"], apiKey: "sk-home")
            let pool = PostgresPool(configuration: .init(connectionString: testDatabaseURL, maximumConnections: 1))
            defer { pool.close() }
            // base_url changed behind the gateway's back (an older replica's write, a manual edit).
            _ = try await pool.query(
                "UPDATE llm.provider_configs SET config = jsonb_set(config, '{baseURL}', to_jsonb($2::text)) "
                    + "WHERE tenant_id = $1", tenant, stranger.baseURL)
            let moved = await status { try await client.chat(chatRequest("ping"), metadata: admin) }
            #expect(moved?.code == .failedPrecondition && moved?.details?.reason == "PROVIDER_KEY_ORIGIN_MISMATCH")
            #expect(stranger.requests.isEmpty)

            // A key stored before origins were recorded is not sent until it is set again.
            _ = try await pool.query(
                "UPDATE llm.provider_configs SET config = jsonb_set(config, '{baseURL}', to_jsonb($2::text)), "
                    + "api_key_origin = NULL WHERE tenant_id = $1", tenant, home.baseURL)
            let before = home.requests.count
            let unbound = await status { try await client.chat(chatRequest("ping"), metadata: admin) }
            #expect(unbound?.code == .failedPrecondition && unbound?.details?.reason == "PROVIDER_KEY_NOT_BOUND")
            let keep = await status { try await client.setProviderConfig(Self.config(home.baseURL), metadata: admin) }
            #expect(keep?.details?.reason == "PROVIDER_KEY_NOT_BOUND")
            #expect(home.requests.count == before)
            _ = try await client.setProviderConfig(Self.config(home.baseURL, apiKey: "sk-again"), metadata: admin)
            _ = try await client.chat(chatRequest("ping"), metadata: admin)
            #expect(home.requests.last?.headers["authorization"] == "Bearer sk-again")
        }
        await home.stop()
        await stranger.stop()
    }

    @Test("A provider's huge Retry-After and token counts are clamped: the gateway answers and stays up")
    func hostileProviderNumbers() async throws {
        let server = try await FakeOpenAIServer.start()
        try await withGateway { client, _ in
            // One tenant per call: a huge (clamped) usage is still charged to the tenant's token
            // bucket, which then makes that tenant wait, as it should.
            func tenant() async throws -> Metadata {
                let tenant = uniqueTenant()
                try await configureOpenAI(
                    client, tenant: tenant, server: server, models: ["huge-retry-after", "huge-usage"])
                return try await bearer(role: .admin, tenant: tenant)
            }
            let limited = try await tenant()
            let error = await status {
                try await client.chat(chatRequest("x", model: "huge-retry-after"), metadata: limited)
            }
            #expect(error?.code == .unavailable)
            let retry = try #require(error?.details?.retryAfter?.duration)
            #expect(retry == .seconds(24 * 3600))

            let counted = try await tenant()
            let reply = try await client.chat(chatRequest("x", model: "huge-usage"), metadata: counted)
            #expect(reply.message?.content == "big")
            let usage = try #require(reply.usage)
            #expect(usage.promptTokens == 1_000_000_000_000 && usage.completionTokens == 1_000_000_000_000)
            #expect(usage.totalTokens == 2_000_000_000_000)
            let report = try await client.getUsage(.init(), metadata: counted)
            #expect(report.totalUsage?.totalTokens == 2_000_000_000_000)
            // The next call of that tenant waits for its bucket to refill (a finite, if long, wait).
            let waiting = await status {
                try await client.chat(chatRequest("x", model: "huge-usage"), metadata: counted)
            }
            #expect(waiting?.code == .resourceExhausted && waiting?.details?.retryAfter != nil)

            let streamed = try await tenant()
            let items = try await collectStream(client, chatRequest("x", model: "huge-usage"), metadata: streamed)
            #expect(items.last?.end?.usage?.promptTokens == 1_000_000_000_000)
            // Still serving.
            _ = try await client.chat(chatRequest("ping", model: "builtin"), metadata: try await tenant())
        }
        await server.stop()
    }
}
