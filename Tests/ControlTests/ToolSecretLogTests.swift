import Foundation
import RPCCore
import RPCHTTP2
import RPCModels
import ServiceTestSupport
import TestSupport
import Testing

/// The control plane's executable, built next to the test bundle.
private let controlBinary = repositoryRoot.appendingPathComponent(".build/debug/control").path

@Suite("Control tool secrets stay out of the logs")
struct ToolSecretLogTests {
    @Test("the control executable at trace level never writes a tool's secret to its log")
    func secretsNeverLogged() async throws {
        let fakes = try await FakeIntegrations.start()
        let port = testServerPort(spread: 2)
        var environment = minimalServiceEnvironment(port: port, adminPort: port + 1).merging(fakes.environment) { $1 }
        environment["SECRET_BOX_KEYS"] = testSecretBoxKeys()
        environment["LOG_LEVEL"] = "trace"
        let process = try ChildProcess([controlBinary], environment: environment, captureStandardError: true)
        defer { process.stop() }
        let transport = HTTP2ClientTransport(host: "127.0.0.1", port: port)
        let tools = Agentplane_V1_ToolService.Client(RPCClient(transport: transport))
        let tenant = uniqueTenant()
        let builder = try await bearer(role: .builder, tenant: tenant)
        var started = false
        for _ in 0..<300 where !started {
            started = await statusCode { try await tools.listTools(.init(), metadata: builder) } == .ok
            if !started { try await Task.sleep(for: .milliseconds(50)) }
        }
        try #require(started, "control did not start: \(process.standardError)")

        let secret = "zammad-secret-" + UUID().uuidString
        let created = try await tools.createTool(
            try toolRequest(
                "ticket", kind: .ticketing, config: #"{"backend": "zammad", "base_url": "https://z.example.com"}"#,
                secrets: ["api_token": secret]), metadata: builder)
        var execute = Agentplane_V1_ExecuteToolRequest()
        execute.toolID = "ticket"
        execute.arguments = try protoStruct(#"{"title": "Printer"}"#)
        execute.idempotencyKey = "run:1:2"
        _ = try await tools.executeTool(execute, metadata: builder)
        execute.arguments = try protoStruct(#"{"title": 1}"#)
        execute.idempotencyKey = ""
        _ = await statusCode { try await tools.executeTool(execute, metadata: builder) }
        var update = Agentplane_V1_UpdateToolRequest()
        update.toolID = created.tool?.id ?? ""
        update.name = "ticket"
        update.config = created.tool?.config
        update.secrets = ["api_token": secret + "-2"]
        update.enabled = true
        _ = try await tools.updateTool(update, metadata: builder)
        #expect(fakes.ticketing.created.withLock { $0.first?.backendConfig?.apiToken } == secret)

        await transport.close()
        process.signal(SIGTERM)
        _ = try await process.waitForExit(timeout: .seconds(10))
        let log = process.standardError
        #expect(log.contains("tool executed"))
        #expect(!log.contains(secret))
        await fakes.stop()
    }
}
