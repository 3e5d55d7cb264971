import Foundation
import LLMGateway
import RPCCore
import RPCModels
import Runtime
import ServiceTestSupport
import Testing

@Suite("LLM gateway: limits, usage and tenancy")
struct LimitsAndUsageTests {
    @Test("The request rate limit answers RESOURCE_EXHAUSTED with retry_after and a retry-after-ms trailer")
    func requestRateLimit() async throws {
        try await withGateway(secretBox: false) { client, _ in
            let tenant = uniqueTenant()
            let admin = try await bearer(role: .admin, tenant: tenant)
            var config = Agentplane_V1_SetProviderConfigRequest()
            config.provider = .builtin
            config.limits = Agentplane_V1_RateLimits(requestsPerMinute: 2, tokensPerMinute: 0, tokensPerDay: 0)
            _ = try await client.setProviderConfig(config, metadata: admin)
            let metadata = try await bearer(tenant: tenant)
            _ = try await client.chat(chatRequest("one"), metadata: metadata)
            _ = try await client.chat(chatRequest("two"), metadata: metadata)
            let limited = await status { try await client.chat(chatRequest("three"), metadata: metadata) }
            #expect(limited?.code == .resourceExhausted)
            #expect(limited?.details?.reason == "RATE_LIMITED")
            let retryAfter = limited?.details?.retryAfter?.duration ?? .zero
            #expect(retryAfter > .seconds(1) && retryAfter <= .seconds(30))
            let trailer = limited?.metadata.firstString(forKey: "retry-after-ms").flatMap(Int.init) ?? 0
            #expect(trailer > 1000 && trailer <= 30000)

            // Another tenant has its own buckets.
            _ = try await client.chat(chatRequest("other"), metadata: try await bearer(tenant: uniqueTenant()))

            let usage = try await client.getUsage(.init(), metadata: admin)
            #expect(usage.totalRequests == 3)
            #expect(usage.buckets.first?.failedRequests == 1)
            #expect(usage.limits?.requestsPerMinute == 2)
        }
    }

    @Test("The request bucket is atomic: of 12 concurrent calls with a limit of 5 per minute, exactly 5 pass")
    func concurrentCallsShareTheBucket() async throws {
        try await withGateway(secretBox: false) { client, _ in
            let tenant = uniqueTenant()
            var config = Agentplane_V1_SetProviderConfigRequest()
            config.limits = Agentplane_V1_RateLimits(requestsPerMinute: 5, tokensPerMinute: 0, tokensPerDay: 0)
            _ = try await client.setProviderConfig(config, metadata: try await bearer(role: .admin, tenant: tenant))
            let metadata = try await bearer(tenant: tenant)
            let outcomes = await withTaskGroup(of: Status.Code.self) { group in
                for index in 0..<12 {
                    group.addTask {
                        do {
                            _ = try await client.embed(.init(inputs: ["text \(index)"]), metadata: metadata)
                            return .ok
                        } catch let error as RPCError {
                            return error.code
                        } catch {
                            return .unknown
                        }
                    }
                }
                var codes: [Status.Code] = []
                for await code in group { codes.append(code) }
                return codes
            }
            #expect(outcomes.filter { $0 == .ok }.count == 5)
            #expect(outcomes.filter { $0 == .resourceExhausted }.count == 7)
        }
    }

    @Test("The token rate limit counts the prompt estimate")
    func tokenRateLimit() async throws {
        try await withGateway(secretBox: false) { client, _ in
            let tenant = uniqueTenant()
            var config = Agentplane_V1_SetProviderConfigRequest()
            config.limits = Agentplane_V1_RateLimits(requestsPerMinute: 100, tokensPerMinute: 300, tokensPerDay: 0)
            _ = try await client.setProviderConfig(config, metadata: try await bearer(role: .admin, tenant: tenant))
            let metadata = try await bearer(tenant: tenant)
            let long = String(repeating: "word ", count: 200)  // about 250 tokens
            _ = try await client.chat(chatRequest(long), metadata: metadata)
            let limited = await status { try await client.chat(chatRequest(long), metadata: metadata) }
            #expect(limited?.code == .resourceExhausted)
            #expect(limited?.message.contains("tokens per minute") == true)
        }
    }

    @Test("The daily token budget stops a tenant until the next UTC day")
    func dailyTokenLimit() async throws {
        try await withGateway(secretBox: false) { client, _ in
            let tenant = uniqueTenant()
            var config = Agentplane_V1_SetProviderConfigRequest()
            config.limits = Agentplane_V1_RateLimits(requestsPerMinute: 100, tokensPerMinute: 0, tokensPerDay: 50)
            _ = try await client.setProviderConfig(config, metadata: try await bearer(role: .admin, tenant: tenant))
            let metadata = try await bearer(tenant: tenant)
            _ = try await client.chat(chatRequest(String(repeating: "word ", count: 80)), metadata: metadata)
            let limited = await status { try await client.chat(chatRequest("short"), metadata: metadata) }
            #expect(limited?.code == .resourceExhausted)
            #expect(limited?.message.contains("50 tokens per day") == true)
            let retryAfter = limited?.details?.retryAfter?.duration ?? .zero
            #expect(retryAfter > .zero && retryAfter <= .seconds(86400))
        }
    }

    @Test("Usage is recorded per model and day and is visible only to its tenant; the allow-list is enforced")
    func usageAndIsolation() async throws {
        let server = try await FakeOpenAIServer.start()
        try await withGateway { client, _ in
            let tenantA = uniqueTenant("a")
            let tenantB = uniqueTenant("b")
            try await configureOpenAI(client, tenant: tenantA, server: server, models: ["echo"])
            let a = try await bearer(tenant: tenantA)
            _ = try await client.chat(chatRequest("one"), metadata: a)
            _ = try await client.chat(chatRequest("two"), metadata: a)
            _ = try await client.embed(.init(inputs: ["text"]), metadata: a)

            let usageA = try await client.getUsage(.init(), metadata: try await bearer(role: .admin, tenant: tenantA))
            let echo = usageA.buckets.first { $0.model == "echo" }
            #expect(echo?.requests == 2)
            #expect(echo?.usage?.promptTokens == 22)
            #expect(echo?.usage?.completionTokens == 14)
            #expect(usageA.buckets.contains { $0.model == "builtin" && $0.requests == 1 })
            #expect(usageA.tokensUsedToday >= 36)
            let onlyEcho = try await client.getUsage(
                .init(model: "echo"), metadata: try await bearer(role: .admin, tenant: tenantA))
            #expect(onlyEcho.buckets.map(\.model) == ["echo"])

            // Tenant B sees none of it and has the default configuration.
            let adminB = try await bearer(role: .admin, tenant: tenantB)
            let usageB = try await client.getUsage(.init(), metadata: adminB)
            #expect(usageB.buckets.isEmpty)
            #expect(usageB.totalRequests == 0)
            let configB = try await client.getProviderConfig(.init(), metadata: adminB).config
            #expect(configB?.provider == .builtin)
            let echoForB = await status {
                try await client.chat(chatRequest("x", model: "echo"), metadata: try await bearer(tenant: tenantB))
            }
            #expect(echoForB?.code == .notFound)

            // An allow-list without the builtin model: PERMISSION_DENIED for it, listed models follow.
            var restricted = Agentplane_V1_SetProviderConfigRequest()
            restricted.provider = .openaiCompatible
            restricted.baseURL = server.baseURL
            restricted.routes = [Agentplane_V1_ModelRoute(model: "echo", upstreamModel: "echo")]
            restricted.allowedModels = ["echo"]
            restricted.defaultEmbeddingModel = ""
            let invalid = await status {
                try await client.setProviderConfig(
                    restricted, metadata: try await bearer(role: .admin, tenant: tenantA))
            }
            // The default embedding model falls back to builtin, which the allow-list excludes.
            #expect(invalid?.code == .invalidArgument)
            restricted.allowedModels = ["echo", "builtin"]
            _ = try await client.setProviderConfig(
                restricted, metadata: try await bearer(role: .admin, tenant: tenantA))
            restricted.allowedModels = ["echo"]
            restricted.routes.append(
                Agentplane_V1_ModelRoute(model: "emb", upstreamModel: "embed", capabilities: [.embedding]))
            restricted.allowedModels = ["echo", "emb"]
            _ = try await client.setProviderConfig(
                restricted, metadata: try await bearer(role: .admin, tenant: tenantA))
            let denied = await status { try await client.chat(chatRequest("x", model: "builtin"), metadata: a) }
            #expect(denied?.code == .permissionDenied)
            let listed = try await client.listModels(.init(), metadata: a).models.map(\.id)
            #expect(listed == ["echo", "emb"])
            let page = try await client.listModels(.init(pageSize: 1), metadata: a)
            #expect(page.models.map(\.id) == ["echo"])
            let next = try await client.listModels(.init(pageSize: 1, pageToken: page.nextPageToken), metadata: a)
            #expect(next.models.map(\.id) == ["emb"])
            #expect(next.nextPageToken.isEmpty)
            let chatOnly = try await client.listModels(.init(capability: .embedding), metadata: a).models.map(\.id)
            #expect(chatOnly == ["emb"])
        }
        await server.stop()
    }

    @Test("GetUsage rejects an end before the start and ranges over 400 days")
    func usageRange() async throws {
        try await withGateway(secretBox: false) { client, _ in
            let admin = try await bearer(role: .admin, tenant: uniqueTenant())
            let now = Date()
            let backwards = await status {
                try await client.getUsage(
                    .init(
                        startTime: Google_Protobuf_Timestamp(date: now),
                        endTime: Google_Protobuf_Timestamp(date: now.addingTimeInterval(-60))), metadata: admin)
            }
            #expect(backwards?.code == .invalidArgument)
            let long = await status {
                try await client.getUsage(
                    .init(startTime: Google_Protobuf_Timestamp(date: now.addingTimeInterval(-401 * 86400))),
                    metadata: admin)
            }
            #expect(long?.code == .invalidArgument)
        }
    }
}
