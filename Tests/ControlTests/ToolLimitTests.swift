import Control
import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimePostgres
import ServiceTestSupport
import Testing

/// Numbers a builder or caller supplies to tools, at and past their limits.
@Suite("Control tool limits")
struct ToolLimitTests {
    @Test("A tool's timeout above the maximum is refused; a stored one above it is clamped when it runs")
    func timeoutIsBounded() async throws {
        let fakes = try await FakeIntegrations.start()
        let endpoint = try await FakeHTTPEndpoint.start()
        let (harness, tools) = try await ToolTests.start(fakes)
        let tenant = uniqueTenant()
        let builder = try await bearer(role: .builder, tenant: tenant)
        var request = try toolRequest(
            "slow", kind: .http, config: #"{"url": "http://127.0.0.1:\#(endpoint.port)/x"}"#)
        request.timeout = Google_Protobuf_Duration(seconds: 300, nanos: 0)
        let tool = try #require(try await tools.createTool(request, metadata: builder).tool)
        #expect(tool.timeout?.seconds == 300)
        request.name = "slower"
        request.timeout = Google_Protobuf_Duration(seconds: 301, nanos: 0)
        #expect(await statusCode { try await tools.createTool(request, metadata: builder) } == .invalidArgument)
        request.timeout = Google_Protobuf_Duration(seconds: Int64.max, nanos: 999_999_999)
        #expect(await statusCode { try await tools.createTool(request, metadata: builder) } == .invalidArgument)
        // A row holding a huge timeout (written before the check) still runs, clamped.
        let admin = PostgresPool(configuration: .init(connectionString: testDatabaseURL, maximumConnections: 1))
        defer { admin.close() }
        _ = try await admin.query(
            "UPDATE control.tools SET timeout_ms = $3 WHERE tenant_id = $1 AND id = $2", tenant, tool.id, Int64.max)
        var execute = Agentplane_V1_ExecuteToolRequest()
        execute.toolID = tool.id
        execute.arguments = try protoStruct("{}")
        let response = try await tools.executeTool(execute, metadata: builder)
        #expect(response.result?.fields["status"]?.numberValue == 200)
        try await harness.stop()
        await endpoint.stop()
        await fakes.stop()
    }

    @Test("An input_schema length bound too large to count is refused at save; a stored one cannot crash ExecuteTool")
    func schemaLengthBounds() async throws {
        let fakes = try await FakeIntegrations.start()
        let endpoint = try await FakeHTTPEndpoint.start()
        let (harness, tools) = try await ToolTests.start(fakes)
        let tenant = uniqueTenant()
        let builder = try await bearer(role: .builder, tenant: tenant)
        let config = #"{"url": "http://127.0.0.1:\#(endpoint.port)/x"}"#
        let huge = #"{"type": "object", "properties": {"q": {"type": "string", "minLength": 1e300}}}"#
        let refused = await rpcError {
            try await tools.createTool(
                try toolRequest("huge", kind: .http, config: config, schema: huge), metadata: builder)
        }
        #expect(refused?.code == .invalidArgument)
        #expect(violationFields(refused).contains("input_schema.properties.q.minLength"))
        let atLimit = #"{"type": "object", "properties": {"q": {"type": "string", "minLength": 9007199254740992}}}"#
        let tool = try #require(
            try await tools.createTool(
                try toolRequest("bounded", kind: .http, config: config, schema: atLimit), metadata: builder
            ).tool)
        var execute = Agentplane_V1_ExecuteToolRequest()
        execute.toolID = tool.id
        execute.arguments = try protoStruct(#"{"q": "short"}"#)
        let short = await rpcError { try await tools.executeTool(execute, metadata: builder) }
        #expect(short?.code == .invalidArgument)
        #expect(short?.message.contains("9007199254740992") == true)
        // A schema stored before the check (written here in SQL) is answered, not a crash.
        let admin = PostgresPool(configuration: .init(connectionString: testDatabaseURL, maximumConnections: 1))
        defer { admin.close() }
        _ = try await admin.query(
            "UPDATE control.tools SET input_schema = $3::jsonb WHERE tenant_id = $1 AND id = $2", tenant, tool.id,
            #"{"type": "object", "properties": {"q": {"type": "string", "minLength": 1e300, "maxLength": -1e300}}}"#)
        let stored = await rpcError { try await tools.executeTool(execute, metadata: builder) }
        #expect(stored?.code == .invalidArgument)
        #expect(violationFields(stored) == ["arguments.q", "arguments.q"])
        try await harness.stop()
        await endpoint.stop()
        await fakes.stop()
    }
}
