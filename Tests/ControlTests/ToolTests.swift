import Control
import Foundation
import RPCCore
import RPCModels
import Runtime
import ServiceTestSupport
import Testing

@Suite("Control tools")
struct ToolTests {
    /// The control plane pointed at the fake integrations, with a secret box and 127.0.0.1 allowed.
    static func start(_ fakes: FakeIntegrations) async throws -> (ServiceTestHarness, Agentplane_V1_ToolService.Client)
    {
        let harness = try await ServiceTestHarness.start(
            ControlService.definition,
            environment: fakes.environment.merging([
                "SECRET_BOX_KEYS": testSecretBoxKeys(), "OUTBOUND_ALLOW_HOSTS": "127.0.0.1,localhost",
            ]) { $1 })
        return (harness, Agentplane_V1_ToolService.Client(harness.client))
    }

    @Test("CRUD: secrets are write-only, merged on update, never in any response; roles; revisions")
    func crud() async throws {
        let fakes = try await FakeIntegrations.start()
        let (harness, tools) = try await Self.start(fakes)
        let tenant = uniqueTenant()
        let builder = try await bearer(role: .builder, tenant: tenant)
        let member = try await bearer(role: .member, tenant: tenant)
        let secret = "zammad-token-" + UUID().uuidString
        let request = try toolRequest(
            "create_ticket", kind: .ticketing,
            config: #"{"backend": "zammad", "base_url": "https://support.example.com", "group_name": "Users"}"#,
            secrets: ["api_token": secret])
        #expect(await statusCode { try await tools.createTool(request, metadata: member) } == .permissionDenied)
        let created = try await tools.createTool(request, metadata: builder)
        let tool = try #require(created.tool)
        #expect(tool.secretNames == ["api_token"])
        #expect(tool.kind == .ticketing && tool.revision == 1 && tool.enabled)
        #expect(!wireContains(created, secret))
        #expect(await statusCode { try await tools.createTool(request, metadata: builder) } == .alreadyExists)

        let got = try await tools.getTool(.init(toolID: tool.id), metadata: member)
        #expect(got.tool?.name == "create_ticket")
        #expect(got.tool?.config?.fields["group_name"]?.stringValue == "Users")
        #expect(!wireContains(got, secret))
        let listed = try await tools.listTools(.init(), metadata: member)
        #expect(listed.tools.map(\.id) == [tool.id])
        #expect(!wireContains(listed, secret))

        var update = Agentplane_V1_UpdateToolRequest()
        update.toolID = tool.id
        update.expectedRevision = 1
        update.name = "create_ticket"
        update.description = "Opens a support ticket"
        update.config = tool.config
        update.secrets = ["api_token": ""]
        update.enabled = true
        // Deleting the only token a zammad tool needs is refused: the tool would not run.
        let missing = await rpcError { try await tools.updateTool(update, metadata: builder) }
        #expect(missing?.code == .invalidArgument)
        #expect(violationFields(missing).contains("secrets.api_token"))
        update.secrets = [:]
        let updated = try await tools.updateTool(update, metadata: builder)
        #expect(updated.tool?.revision == 2 && updated.tool?.secretNames == ["api_token"])
        #expect(!wireContains(updated, secret))
        #expect(await statusCode { try await tools.updateTool(update, metadata: builder) } == .aborted)

        // Tenant isolation: another tenant sees nothing and gets NOT_FOUND for every id.
        let other = try await bearer(role: .owner, tenant: uniqueTenant())
        #expect(await statusCode { try await tools.getTool(.init(toolID: tool.id), metadata: other) } == .notFound)
        #expect(
            await statusCode { try await tools.getTool(.init(toolID: "create_ticket"), metadata: other) } == .notFound)
        #expect(try await tools.listTools(.init(), metadata: other).tools.isEmpty)
        update.expectedRevision = 0
        #expect(await statusCode { try await tools.updateTool(update, metadata: other) } == .notFound)
        #expect(await statusCode { try await tools.deleteTool(.init(toolID: tool.id), metadata: other) } == .notFound)
        var execute = Agentplane_V1_ExecuteToolRequest()
        execute.toolID = tool.id
        execute.arguments = try protoStruct(#"{"title": "x"}"#)
        #expect(await statusCode { try await tools.executeTool(execute, metadata: other) } == .notFound)

        #expect(
            await statusCode { try await tools.deleteTool(.init(toolID: tool.id), metadata: member) }
                == .permissionDenied)
        _ = try await tools.deleteTool(.init(toolID: tool.id), metadata: builder)
        #expect(await statusCode { try await tools.getTool(.init(toolID: tool.id), metadata: builder) } == .notFound)
        try await harness.stop()
        await fakes.stop()
    }

    @Test("bad settings: unknown kind, unknown config keys, missing secrets, bad schema, bad timeout")
    func badSettings() async throws {
        let fakes = try await FakeIntegrations.start()
        let (harness, tools) = try await Self.start(fakes)
        let builder = try await bearer(role: .builder, tenant: uniqueTenant())
        let unknownKind = await rpcError {
            try await tools.createTool(try toolRequest("a", kind: .unspecified), metadata: builder)
        }
        #expect(unknownKind?.code == .invalidArgument)
        let unknownKey = await rpcError {
            try await tools.createTool(
                try toolRequest("b", kind: .kbSearch, config: #"{"topk": 3}"#), metadata: builder)
        }
        #expect(violationFields(unknownKey) == ["config.topk"])
        let slack = await rpcError {
            try await tools.createTool(
                try toolRequest("c", kind: .notification, config: #"{"channel": "slack"}"#), metadata: builder)
        }
        #expect(violationFields(slack) == ["secrets.url"])
        let http = await rpcError {
            try await tools.createTool(
                try toolRequest("d", kind: .http, config: #"{"url": "ftp://x"}"#), metadata: builder)
        }
        #expect(violationFields(http) == ["config.url"])
        let header = await rpcError {
            try await tools.createTool(
                try toolRequest(
                    "h", kind: .http, config: #"{"url": "https://api.example.com"}"#, secrets: ["bad name": "x"]),
                metadata: builder)
        }
        #expect(violationFields(header) == ["secrets.bad name"])
        let schema = await rpcError {
            try await tools.createTool(
                try toolRequest("e", kind: .kbSearch, schema: #"{"type": "thing"}"#), metadata: builder)
        }
        #expect(violationFields(schema) == ["input_schema.type"])
        var timeout = try toolRequest("f", kind: .kbSearch)
        timeout.timeout = Google_Protobuf_Duration(.seconds(3600))
        #expect(await statusCode { try await tools.createTool(timeout, metadata: builder) } == .invalidArgument)
        var empty = try toolRequest(" ", kind: .kbSearch)
        empty.name = "  "
        #expect(await statusCode { try await tools.createTool(empty, metadata: builder) } == .invalidArgument)
        try await harness.stop()
        await fakes.stop()
    }

    @Test("ExecuteTool routes with the decrypted config and the idempotency key; replays by key")
    func executeRouting() async throws {
        let fakes = try await FakeIntegrations.start()
        let (harness, tools) = try await Self.start(fakes)
        let tenant = uniqueTenant()
        let builder = try await bearer(role: .builder, tenant: tenant)
        let service = try await serviceBearer(service: "execution", tenant: tenant)
        let token = "zammad-" + UUID().uuidString
        _ = try await tools.createTool(
            try toolRequest(
                "open_ticket", kind: .ticketing,
                config: #"{"backend": "zammad", "base_url": "https://support.example.com", "group_name": "L1"}"#,
                secrets: ["api_token": token],
                schema: #"{"type": "object", "required": ["title"], "properties": {"title": {"type": "string"}}}"#),
            metadata: builder)

        // The execution service references the tool by name, with a service token.
        var execute = Agentplane_V1_ExecuteToolRequest()
        execute.toolID = "open_ticket"
        execute.arguments = try protoStruct(#"{"title": "Printer on fire", "body": "3rd floor"}"#)
        execute.idempotencyKey = "run-1:step-2:node-3"
        execute.runID = "run-1"
        let first = try await tools.executeTool(execute, metadata: service)
        #expect(first.replayed == false)
        #expect(first.result?.fields["ticket"]?.structValue?.fields["id"]?.stringValue == "ticket-1")
        let sent = try #require(fakes.ticketing.created.withLock { $0.first })
        #expect(sent.backendConfig?.apiToken == token)
        #expect(sent.backendConfig?.backend == .zammad && sent.backendConfig?.groupName == "L1")
        #expect(sent.idempotencyKey == "run-1:step-2:node-3" && sent.runID == "run-1")
        #expect(!wireContains(first, token))

        let again = try await tools.executeTool(execute, metadata: service)
        #expect(again.replayed && again.result == first.result)
        #expect(fakes.ticketing.created.withLock { $0.count } == 1)
        var other = execute
        other.arguments = try protoStruct(#"{"title": "Something else"}"#)
        #expect(await statusCode { try await tools.executeTool(other, metadata: service) } == .failedPrecondition)

        // Argument validation against the declared parameters.
        var bad = execute
        bad.idempotencyKey = ""
        bad.arguments = try protoStruct(#"{"title": 42}"#)
        let wrongType = await rpcError { try await tools.executeTool(bad, metadata: builder) }
        #expect(wrongType?.code == .invalidArgument && violationFields(wrongType) == ["arguments.title"])
        bad.arguments = try protoStruct(#"{"body": "no title"}"#)
        let missing = await rpcError { try await tools.executeTool(bad, metadata: builder) }
        #expect(violationFields(missing) == ["arguments.title"])
        let member = try await bearer(role: .member, tenant: tenant)
        #expect(await statusCode { try await tools.executeTool(bad, metadata: member) } == .permissionDenied)

        // kb_search and notification route to their services, with the tool's config.
        _ = try await tools.createTool(
            try toolRequest("search_kb", kind: .kbSearch, config: #"{"top_k": 3, "tags": ["faq"]}"#), metadata: builder)
        var search = Agentplane_V1_ExecuteToolRequest()
        search.toolID = "search_kb"
        search.arguments = try protoStruct(#"{"query": "reset password"}"#)
        let found = try await tools.executeTool(search, metadata: service)
        #expect(found.result?.fields["results"]?.listValue?.values.count == 1)
        let query = try #require(fakes.kb.searches.withLock { $0.last })
        #expect(query.query == "reset password" && query.topK == 3 && query.tags == ["faq"])

        let hook = "https://hooks.slack.com/services/T0/B0/" + UUID().uuidString
        _ = try await tools.createTool(
            try toolRequest(
                "page_oncall", kind: .notification, config: ##"{"channel": "slack", "channel_name": "#ops"}"##,
                secrets: ["url": hook]), metadata: builder)
        var notify = Agentplane_V1_ExecuteToolRequest()
        notify.toolID = "page_oncall"
        notify.arguments = try protoStruct(#"{"text": "disk full", "severity": "critical"}"#)
        notify.idempotencyKey = "run-2:s:n"
        let delivered = try await tools.executeTool(notify, metadata: service)
        #expect(delivered.result?.fields["delivery_id"]?.stringValue == "delivery-1")
        let notified = try #require(fakes.notification.notified.withLock { $0.last })
        #expect(notified.target?.url == hook && notified.target?.channelName == "#ops")
        #expect(notified.channel == .slack && notified.severity == .critical && notified.idempotencyKey == "run-2:s:n")

        // llm tools call the gateway with the configured model and system prompt.
        _ = try await tools.createTool(
            try toolRequest(
                "summarize", kind: .llm, config: #"{"model": "small", "system_prompt": "Be brief.", "max_tokens": 64}"#),
            metadata: builder)
        var summarize = Agentplane_V1_ExecuteToolRequest()
        summarize.toolID = "summarize"
        summarize.arguments = try protoStruct(#"{"prompt": "long text"}"#)
        let summary = try await tools.executeTool(summarize, metadata: service)
        #expect(summary.result?.fields["content"]?.stringValue == "model says: long text")
        let chat = try #require(fakes.llm.chats.withLock { $0.last })
        #expect(chat.model == "small" && chat.maxTokens == 64)
        #expect(chat.messages.map(\.content) == ["Be brief.", "long text"])
        #expect(chat.messages.map(\.role) == [.system, .user])

        // A disabled tool is not executed.
        var disabled = try toolRequest("off", kind: .kbSearch, enabled: false)
        disabled.description = "disabled"
        _ = try await tools.createTool(disabled, metadata: builder)
        var off = search
        off.toolID = "off"
        #expect(await statusCode { try await tools.executeTool(off, metadata: builder) } == .failedPrecondition)
        try await harness.stop()
        await fakes.stop()
    }

    @Test("http tool: calls the endpoint through the outbound policy, secrets as headers")
    func httpTool() async throws {
        let fakes = try await FakeIntegrations.start()
        let endpoint = try await FakeHTTPEndpoint.start()
        let (harness, tools) = try await Self.start(fakes)
        let tenant = uniqueTenant()
        let builder = try await bearer(role: .builder, tenant: tenant)
        let secret = "Bearer upstream-" + UUID().uuidString
        let created = try await tools.createTool(
            try toolRequest(
                "lookup_order", kind: .http,
                config:
                    #"{"url": "http://127.0.0.1:\#(endpoint.port)/orders", "method": "POST", "headers": {"X-Team": "support"}}"#,
                secrets: ["Authorization": secret]), metadata: builder)
        #expect(!wireContains(created, secret))
        var execute = Agentplane_V1_ExecuteToolRequest()
        execute.toolID = "lookup_order"
        execute.arguments = try protoStruct(#"{"order": "A-17"}"#)
        execute.idempotencyKey = "run-9:a:b"
        let response = try await tools.executeTool(execute, metadata: builder)
        #expect(response.result?.fields["status"]?.numberValue == 200)
        let echo = response.result?.fields["body"]?.structValue?.fields["echo"]?.structValue
        #expect(echo?.fields["order"]?.stringValue == "A-17")
        let seen = try #require(endpoint.requests.last)
        #expect(seen.method == "POST" && seen.uri == "/orders")
        #expect(seen.headers["authorization"] == secret && seen.headers["x-team"] == "support")
        #expect(seen.headers["idempotency-key"] == "run-9:a:b")

        _ = try await tools.createTool(
            try toolRequest("broken", kind: .http, config: #"{"url": "http://127.0.0.1:\#(endpoint.port)/fail"}"#),
            metadata: builder)
        execute.toolID = "broken"
        execute.idempotencyKey = ""
        #expect(await statusCode { try await tools.executeTool(execute, metadata: builder) } == .unavailable)
        // A host outside the allow-list (plain http to a non-allow-listed name) is refused by the policy.
        _ = try await tools.createTool(
            try toolRequest("elsewhere", kind: .http, config: #"{"url": "http://10.0.0.1/x"}"#), metadata: builder)
        execute.toolID = "elsewhere"
        #expect(await statusCode { try await tools.executeTool(execute, metadata: builder) } == .failedPrecondition)
        try await harness.stop()
        await endpoint.stop()
        await fakes.stop()
    }
}
