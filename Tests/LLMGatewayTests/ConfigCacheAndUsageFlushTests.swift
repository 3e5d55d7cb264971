import Foundation
import LLMGateway
import RPCCore
import RPCModels
import Runtime
import RuntimeConfig
import RuntimePostgres
import ServiceTestSupport
import Testing

@Suite("LLM gateway: provider configurations kept for a TTL, usage written behind")
struct ConfigCacheAndUsageFlushTests {
    static func read(_ environment: [String: String]) -> (LLMGatewaySettings, ConfigurationError?) {
        var reader = ConfigReader(environment: environment, arguments: [])
        let settings = LLMGatewaySettings.read(from: &reader)
        do {
            try reader.validate()
            return (settings, nil)
        } catch {
            return (settings, error)
        }
    }

    @Test("LLM_PROVIDER_CONFIG_CACHE_TTL and LLM_USAGE_FLUSH_INTERVAL: 1s by default, 0 to 60s, past that refused")
    func keysAtTheirBounds() {
        for key in ["LLM_PROVIDER_CONFIG_CACHE_TTL", "LLM_USAGE_FLUSH_INTERVAL"] {
            let defaults = Self.read([:]).0
            #expect(defaults.providerConfigCacheTTL == .seconds(1) && defaults.usageFlushInterval == .seconds(1))
            let zero = Self.read([key: "0"])
            #expect(zero.1 == nil)
            let most = Self.read([key: "60s"])
            #expect(most.1 == nil)
            #expect(
                (key == "LLM_USAGE_FLUSH_INTERVAL" ? most.0.usageFlushInterval : most.0.providerConfigCacheTTL)
                    == .seconds(60))
            for bad in ["61s", "-1s", "1e300s", "soon", "1\u{0}s"] {
                let error = Self.read([key: bad]).1
                #expect(error != nil, "\(key)=\(bad) was accepted")
                #expect("\(error.map { "\($0)" } ?? "")".contains(key))
            }
        }
    }

    @Test("A configuration changed behind the gateway is used within the TTL; one saved through it at once")
    func configurationsAreKeptForTheTTL() async throws {
        try await withGateway(secretBox: false, environment: ["LLM_PROVIDER_CONFIG_CACHE_TTL": "400ms"]) {
            client, _ in
            let tenant = uniqueTenant()
            let admin = try await bearer(role: .admin, tenant: tenant)
            let member = try await bearer(tenant: tenant)
            var config = Agentplane_V1_SetProviderConfigRequest()
            config.provider = .builtin
            _ = try await client.setProviderConfig(config, metadata: admin)
            _ = try await client.chat(chatRequest("one"), metadata: member)
            // Only another model allowed, behind the gateway's back.
            let pool = PostgresPool(configuration: .init(connectionString: testDatabaseURL, maximumConnections: 1))
            defer { pool.close() }
            _ = try await pool.query(
                """
                UPDATE llm.provider_configs SET config = jsonb_set(config, '{allowedModels}', '["elsewhere"]'::jsonb)
                WHERE tenant_id = $1
                """, tenant)
            _ = try await client.chat(chatRequest("two: the kept configuration still allows it"), metadata: member)
            var refused = false
            let deadline = ContinuousClock.now + .seconds(10)
            while !refused, ContinuousClock.now < deadline {
                refused = await statusCode { try await client.chat(chatRequest("three"), metadata: member) } != .ok
                if !refused { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(refused, "the changed row was never read")

            // A save through the gateway applies to the next call.
            _ = try await client.setProviderConfig(config, metadata: admin)
            _ = try await client.chat(chatRequest("four"), metadata: member)
        }
    }

    @Test("Usage is written behind the calls within the interval, and GetUsage counts every call at once")
    func usageIsWrittenBehind() async throws {
        try await withGateway(secretBox: false, environment: ["LLM_USAGE_FLUSH_INTERVAL": "300ms"]) { client, _ in
            let tenant = uniqueTenant()
            let member = try await bearer(tenant: tenant)
            let admin = try await bearer(role: .admin, tenant: tenant)
            for index in 0..<3 { _ = try await client.chat(chatRequest("question \(index)"), metadata: member) }
            let pool = PostgresPool(configuration: .init(connectionString: testDatabaseURL, maximumConnections: 1))
            defer { pool.close() }
            func stored() async throws -> Int64 {
                try await pool.query(
                    "SELECT coalesce(sum(requests), 0)::int8 AS n FROM llm.usage_hourly WHERE tenant_id = $1", tenant
                ).first?.decode("n") ?? 0
            }
            var written: Int64 = 0
            let deadline = ContinuousClock.now + .seconds(10)
            while written < 3, ContinuousClock.now < deadline {
                written = try await stored()
                if written < 3 { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(written == 3)
            _ = try await client.chat(chatRequest("one more"), metadata: member)
            #expect(try await client.getUsage(.init(), metadata: admin).totalRequests == 4)
        }
    }

    @Test("Usage still kept when the service stops is written before it goes")
    func usageIsWrittenAtShutdown() async throws {
        let tenant = uniqueTenant()
        try await withGateway(secretBox: false, environment: ["LLM_USAGE_FLUSH_INTERVAL": "60s"]) { client, _ in
            _ = try await client.chat(chatRequest("before the stop"), metadata: try await bearer(tenant: tenant))
        }
        let pool = PostgresPool(configuration: .init(connectionString: testDatabaseURL, maximumConnections: 1))
        defer { pool.close() }
        let rows = try await pool.query(
            "SELECT coalesce(sum(requests), 0)::int8 AS n FROM llm.usage_hourly WHERE tenant_id = $1", tenant)
        #expect(try rows.first?.decode("n", as: Int64.self) == 1)
    }
}
