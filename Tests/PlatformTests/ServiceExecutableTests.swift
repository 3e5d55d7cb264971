import Foundation
import RPCCore
import RPCHTTP2
import RPCModels
import ServiceTestSupport
import TestSupport
import Testing

/// Every service executable, started as an operator would: the five common keys alone.
@Suite("Service executables")
struct ServiceExecutableTests {
    @Test(arguments: ["control", "llm-gateway", "kb-search", "ticketing", "notification", "execution"])
    func startsWithTheFiveKeysAloneReportsServingAndStopsOnSigterm(executable: String) async throws {
        let binary = repositoryRoot.appendingPathComponent(".build/debug/\(executable)").path
        let port = testServerPort(spread: 2)
        let adminPort = port + 1
        var environment = minimalServiceEnvironment(port: port, adminPort: adminPort)
        environment["DATABASE_URL"] = try await isolatedDatabaseURL(named: "agentplane_platform_tests")
        let service = try ChildProcess(
            [binary], environment: environment,
            captureStandardError: true, readsOutput: false)
        defer { service.stop() }
        let transport = HTTP2ClientTransport(host: "127.0.0.1", port: port)
        let health = Grpc_Health_V1_Health.Client(RPCClient(transport: transport))
        var status: Grpc_Health_V1_HealthCheckResponse.ServingStatus?
        for _ in 0..<300 where status != .serving {
            status = try? await health.check(Grpc_Health_V1_HealthCheckRequest(), options: .init(timeout: .seconds(1)))
                .status
            if status != .serving { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(status == .serving, "\(executable) did not report SERVING: \(service.standardError.suffix(2000))")
        let ready = try await httpGet(port: adminPort, path: "/readyz")
        #expect(ready.status == 200, "\(ready.body)")
        await transport.close()
        service.signal(SIGTERM)
        #expect(try await service.waitForExit(timeout: .seconds(20)) == 0, "\(service.standardError.suffix(2000))")
    }
}
