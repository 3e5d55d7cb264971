import Control
import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimePostgres
import ServiceTestSupport
import Synchronization
import TestSupport
import Testing

/// A tool's secrets stay bound to the origin (scheme, host, port) they were saved for.
@Suite("Control tool secrets bound to their origin")
struct ToolSecretOriginTests {
    /// An update of `tool` with `config` and `secrets`, the rest as it is.
    static func update(_ tool: Agentplane_V1_Tool, config: String, secrets: [String: String] = [:]) throws
        -> Agentplane_V1_UpdateToolRequest
    {
        var update = Agentplane_V1_UpdateToolRequest()
        update.toolID = tool.id
        update.name = tool.name
        update.description = tool.description
        update.config = try protoStruct(config)
        update.secrets = secrets
        update.enabled = true
        return update
    }

    @Test("UpdateTool refuses to point kept secrets at another origin; the same origin, or the secrets again, pass")
    func updateKeepsSecretsWithTheirOrigin() async throws {
        let fakes = try await FakeIntegrations.start()
        let first = try await FakeHTTPEndpoint.start()
        let second = try await FakeHTTPEndpoint.start()
        let (harness, tools) = try await ToolTests.start(fakes)
        let builder = try await bearer(role: .builder, tenant: uniqueTenant())
        let secret = "key-" + UUID().uuidString
        let created = try await tools.createTool(
            try toolRequest(
                "orders", kind: .http, config: #"{"url": "http://127.0.0.1:\#(first.port)/orders"}"#,
                secrets: ["X-Api-Key": secret]), metadata: builder)
        let tool = try #require(created.tool)

        // Another port, another host, another scheme: each is another origin.
        for url in [
            "http://127.0.0.1:\(second.port)/steal", "http://localhost:\(first.port)/orders",
            "https://127.0.0.1:\(first.port)/orders",
        ] {
            let refused = await rpcError {
                try await tools.updateTool(try Self.update(tool, config: #"{"url": "\#(url)"}"#), metadata: builder)
            }
            #expect(refused?.code == .failedPrecondition, "\(url)")
            #expect(refused?.details?.reason == "SECRETS_BOUND_TO_ORIGIN", "\(url)")
            #expect(refused?.message.contains(secret) == false)
        }
        let unchanged = try #require(try await tools.getTool(.init(toolID: tool.id), metadata: builder).tool)
        #expect(unchanged.revision == 1)
        #expect(unchanged.config?.fields["url"]?.stringValue == "http://127.0.0.1:\(first.port)/orders")

        // Another path at the same origin keeps the secrets (an explicit default port is the same origin).
        _ = try await tools.updateTool(
            try Self.update(tool, config: #"{"url": "http://127.0.0.1:\#(first.port)/v2/orders"}"#), metadata: builder)
        var execute = Agentplane_V1_ExecuteToolRequest()
        execute.toolID = tool.id
        execute.arguments = try protoStruct(#"{"order": "A-1"}"#)
        _ = try await tools.executeTool(execute, metadata: builder)
        #expect(first.requests.last?.uri == "/v2/orders" && first.requests.last?.headers["x-api-key"] == secret)

        // Supplying the secret again moves it to the new origin; the old one hears nothing more.
        let other = "other-" + UUID().uuidString
        let moved = try await tools.updateTool(
            try Self.update(
                tool, config: #"{"url": "http://127.0.0.1:\#(second.port)/in"}"#, secrets: ["X-Api-Key": other]),
            metadata: builder)
        #expect(moved.tool?.secretNames == ["X-Api-Key"])
        let before = first.requests.count
        _ = try await tools.executeTool(execute, metadata: builder)
        #expect(second.requests.last?.headers["x-api-key"] == other)
        #expect(first.requests.count == before)

        // Deleting the secret while moving is fine too: nothing is left to leak.
        let emptied = try await tools.updateTool(
            try Self.update(tool, config: #"{"url": "http://127.0.0.1:\#(first.port)/x"}"#, secrets: ["X-Api-Key": ""]),
            metadata: builder)
        #expect(emptied.tool?.secretNames == [])
        try await harness.stop()
        await first.stop()
        await second.stop()
        await fakes.stop()
    }

    @Test("Zammad base_url and a notification's url are origins too: kept secrets do not follow them")
    func zammadAndNotificationOrigins() async throws {
        let fakes = try await FakeIntegrations.start()
        let (harness, tools) = try await ToolTests.start(fakes)
        let builder = try await bearer(role: .builder, tenant: uniqueTenant())
        let zammad = try #require(
            try await tools.createTool(
                try toolRequest(
                    "tickets", kind: .ticketing,
                    config: #"{"backend": "zammad", "base_url": "https://support.example.com/api"}"#,
                    secrets: ["api_token": "zammad-token"]), metadata: builder
            ).tool)
        let moved = await rpcError {
            try await tools.updateTool(
                try Self.update(zammad, config: #"{"backend": "zammad", "base_url": "https://evil.example.net"}"#),
                metadata: builder)
        }
        #expect(moved?.code == .failedPrecondition && moved?.details?.reason == "SECRETS_BOUND_TO_ORIGIN")
        _ = try await tools.updateTool(
            try Self.update(zammad, config: #"{"backend": "zammad", "base_url": "https://support.example.com/v2"}"#),
            metadata: builder)
        _ = try await tools.updateTool(
            try Self.update(
                zammad, config: #"{"backend": "zammad", "base_url": "https://new.example.com"}"#,
                secrets: ["api_token": "new-token"]), metadata: builder)

        let webhook = try #require(
            try await tools.createTool(
                try toolRequest(
                    "alert", kind: .notification, config: #"{"channel": "webhook"}"#,
                    secrets: ["url": "https://hooks.example.com/a", "signing_secret": "sign-1"]), metadata: builder
            ).tool)
        // A new url at another origin with the signing secret kept: the secret would sign for a stranger.
        let elsewhere = await rpcError {
            try await tools.updateTool(
                try Self.update(
                    webhook, config: #"{"channel": "webhook"}"#, secrets: ["url": "https://attacker.example/x"]),
                metadata: builder)
        }
        #expect(elsewhere?.code == .failedPrecondition && elsewhere?.details?.reason == "SECRETS_BOUND_TO_ORIGIN")
        _ = try await tools.updateTool(
            try Self.update(
                webhook, config: #"{"channel": "webhook"}"#, secrets: ["url": "https://hooks.example.com/b"]),
            metadata: builder)
        _ = try await tools.updateTool(
            try Self.update(
                webhook, config: #"{"channel": "webhook"}"#,
                secrets: ["url": "https://attacker.example/x", "signing_secret": "sign-2"]), metadata: builder)
        try await harness.stop()
        await fakes.stop()
    }

    @Test("ExecuteTool sends no secret to an origin it was not saved for, nor secrets saved before origins were bound")
    func executeRefusesUnboundSecrets() async throws {
        let fakes = try await FakeIntegrations.start()
        let home = try await FakeHTTPEndpoint.start()
        let stranger = try await FakeHTTPEndpoint.start()
        let (harness, tools) = try await ToolTests.start(fakes)
        let tenant = uniqueTenant()
        let builder = try await bearer(role: .builder, tenant: tenant)
        let secret = "key-" + UUID().uuidString
        let tool = try #require(
            try await tools.createTool(
                try toolRequest(
                    "orders", kind: .http, config: #"{"url": "http://127.0.0.1:\#(home.port)/orders"}"#,
                    secrets: ["X-Api-Key": secret]), metadata: builder
            ).tool)
        var execute = Agentplane_V1_ExecuteToolRequest()
        execute.toolID = tool.id
        execute.arguments = try protoStruct("{}")
        _ = try await tools.executeTool(execute, metadata: builder)
        #expect(home.requests.count == 1)

        // The url changed behind the handler's back (an older replica's write, a manual edit).
        let admin = PostgresPool(configuration: .init(connectionString: testDatabaseURL, maximumConnections: 1))
        defer { admin.close() }
        _ = try await admin.query(
            "UPDATE control.tools SET config = jsonb_set(config, '{url}', to_jsonb($3::text)) "
                + "WHERE tenant_id = $1 AND id = $2", tenant, tool.id, "http://127.0.0.1:\(stranger.port)/x")
        let mismatch = await rpcError { try await tools.executeTool(execute, metadata: builder) }
        #expect(mismatch?.code == .failedPrecondition && mismatch?.details?.reason == "SECRETS_ORIGIN_MISMATCH")
        #expect(stranger.requests.isEmpty)

        // Secrets saved before origins were recorded are not sent anywhere until supplied again.
        _ = try await admin.query(
            "UPDATE control.tools SET config = jsonb_set(config, '{url}', to_jsonb($3::text)), secrets_origin = NULL "
                + "WHERE tenant_id = $1 AND id = $2", tenant, tool.id, "http://127.0.0.1:\(home.port)/orders")
        let unbound = await rpcError { try await tools.executeTool(execute, metadata: builder) }
        #expect(unbound?.code == .failedPrecondition && unbound?.details?.reason == "SECRETS_NOT_BOUND")
        let current = try #require(try await tools.getTool(.init(toolID: tool.id), metadata: builder).tool)
        let keep = await rpcError {
            try await tools.updateTool(
                try Self.update(current, config: #"{"url": "http://127.0.0.1:\#(home.port)/orders"}"#),
                metadata: builder)
        }
        #expect(keep?.code == .failedPrecondition && keep?.details?.reason == "SECRETS_NOT_BOUND")
        _ = try await tools.updateTool(
            try Self.update(
                current, config: #"{"url": "http://127.0.0.1:\#(home.port)/orders"}"#, secrets: ["X-Api-Key": secret]),
            metadata: builder)
        _ = try await tools.executeTool(execute, metadata: builder)
        #expect(home.requests.count == 2 && home.requests.last?.headers["x-api-key"] == secret)
        #expect(stranger.requests.isEmpty)
        try await harness.stop()
        await home.stop()
        await stranger.stop()
        await fakes.stop()
    }

    @Test("A redirect to another origin drops every secret header; a redirect within the origin keeps them")
    func redirectsDropSecretHeaders() async throws {
        let fakes = try await FakeIntegrations.start()
        let target = try await FakeHTTPEndpoint.start()
        let seen = Mutex<[TestHTTPRequest]>([])
        let redirector = try await TestHTTPServer.start { request, responder in
            seen.withLock { $0.append(request) }
            if request.path == "/same" {
                responder.respond(status: 307, headers: [("location", "/final")])
            } else if request.path == "/final" {
                responder.respond(status: 200, headers: [("content-type", "application/json")], body: "{}")
            } else {
                responder.respond(status: 307, headers: [("location", "http://127.0.0.1:\(target.port)/landed")])
            }
        }
        let (harness, tools) = try await ToolTests.start(fakes)
        let builder = try await bearer(role: .builder, tenant: uniqueTenant())
        let secrets = ["X-Api-Key": "k-" + UUID().uuidString, "Authorization": "Bearer t-" + UUID().uuidString]
        for (name, path) in [("away", "/away"), ("same", "/same")] {
            _ = try await tools.createTool(
                try toolRequest(
                    name, kind: .http,
                    config:
                        #"{"url": "http://127.0.0.1:\#(redirector.port)\#(path)", "headers": {"X-Team": "support", "X-Auth-Token": "in-config"}}"#,
                    secrets: secrets), metadata: builder)
        }
        var execute = Agentplane_V1_ExecuteToolRequest()
        execute.toolID = "away"
        execute.arguments = try protoStruct(#"{"q": 1}"#)
        _ = try await tools.executeTool(execute, metadata: builder)
        let first = try #require(seen.withLock { $0.first })
        #expect(first.headers["x-api-key"] == secrets["X-Api-Key"])
        let landed = try #require(target.requests.last)
        #expect(landed.uri == "/landed" && landed.body.contains("\"q\""))
        #expect(landed.headers["x-api-key"] == nil)
        #expect(landed.headers["authorization"] == nil)
        #expect(landed.headers["x-auth-token"] == nil)
        #expect(landed.headers["x-team"] == "support")

        execute.toolID = "same"
        _ = try await tools.executeTool(execute, metadata: builder)
        let final = try #require(seen.withLock { $0.last })
        #expect(final.path == "/final")
        #expect(final.headers["x-api-key"] == secrets["X-Api-Key"])
        #expect(final.headers["authorization"] == secrets["Authorization"])
        try await harness.stop()
        await redirector.stop()
        await target.stop()
        await fakes.stop()
    }
}
