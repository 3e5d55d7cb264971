import Foundation
import FoundationNetworking
import InteropTesting
import RPCCore
import RPCHTTP2
import RPCModels
import Runtime
import RuntimeConfig
import RuntimeSecurity
import Testing

/// The test Redis, next to `testDatabaseURL`.
let testRedisURL = ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:56379/0"
/// The JWT secret the host tests run services with.
let testJWTSecret = "host-tests-secret-0123456789-abcdefghijklmnop"

/// The five keys every service needs, with free ports.
func minimalServiceEnvironment(port: Int = 0, adminPort: Int = 0) -> [String: String] {
    [
        "PORT": String(port), "ADMIN_PORT": String(adminPort), "DATABASE_URL": testDatabaseURL,
        "REDIS_URL": testRedisURL, "JWT_SECRET": testJWTSecret, "HOST": "127.0.0.1",
    ]
}

/// GETs a path on the admin port; returns the status and body.
func httpGet(port: Int, path: String) async throws -> (status: Int, body: String) {
    let url = try #require(URL(string: "http://127.0.0.1:\(port)\(path)"))
    let (data, response) = try await URLSession.shared.data(from: url)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
}

func bearer(role: Role = .member, tenant: String = "tenant-host") async throws -> Metadata {
    let issued = try await TokenIssuer(secret: Array(testJWTSecret.utf8)).issueAccessToken(
        tenantID: tenant, userID: "user-1", role: role, ttl: .seconds(300))
    return ["authorization": .string("Bearer \(issued.token)")]
}

@Suite("Service host", .serialized)
struct ServiceHostTests {
    private func startService() async throws -> (RunningService, Task<Void, any Error>) {
        var reader = ConfigReader(environment: minimalServiceEnvironment(), arguments: [])
        let configuration = ServiceConfiguration.load(service: "host-test", reader: &reader)
        try reader.validate()
        let service = try await ServiceHost.start(
            ServiceDefinition(name: "host-test") { _ in ServiceAssembly(services: [TestServiceImplementation()]) },
            configuration: configuration)
        let running = Task { try await service.run() }
        return (service, running)
    }

    @Test func metricsShowACallsCounterAndLatencyAfterTheCall() async throws {
        let (service, running) = try await startService()
        let transport = HTTP2ClientTransport(host: "127.0.0.1", port: service.grpcPort)
        let client = Grpc_Testing_TestService.Client(RPCClient(transport: transport))
        _ = try await client.emptyCall(Grpc_Testing_Empty(), metadata: try await bearer())
        let failed = await #expect(throws: RPCError.self) { _ = try await client.emptyCall(Grpc_Testing_Empty()) }
        #expect(failed?.code == .unauthenticated)

        let (status, metrics) = try await httpGet(port: service.adminPort, path: "/metrics")
        #expect(status == 200)
        let lines = metrics.split(separator: "\n").map(String.init)
        let method = "/grpc.testing.TestService/EmptyCall"
        let okCounter = lines.first {
            $0.hasPrefix("rpc_server_requests_total{") && $0.contains(method) && $0.contains("\"OK\"")
        }
        #expect(okCounter?.hasSuffix(" 1") == true, "\(lines.filter { $0.contains("rpc_server") })")
        #expect(
            lines.contains {
                $0.hasPrefix("rpc_server_requests_total{") && $0.contains(method) && $0.contains("UNAUTHENTICATED")
            })
        #expect(lines.contains { $0.hasPrefix("rpc_server_duration_seconds_count{") && $0.contains(method) })
        #expect(lines.contains { $0.hasPrefix("rpc_server_duration_seconds_bucket{") && $0.contains(method) })

        #expect(try await httpGet(port: service.adminPort, path: "/healthz").status == 200)
        let ready = try await httpGet(port: service.adminPort, path: "/readyz")
        #expect(ready.status == 200, "\(ready.body)")

        await transport.close()
        await service.shutdown()
        try await running.value
    }

    @Test func healthAnswersWithoutCredentialsAndReportsServing() async throws {
        let (service, running) = try await startService()
        let transport = HTTP2ClientTransport(host: "127.0.0.1", port: service.grpcPort)
        let health = Grpc_Health_V1_Health.Client(RPCClient(transport: transport))
        var request = Grpc_Health_V1_HealthCheckRequest()
        #expect(try await health.check(request).status == .serving)
        request.service = "grpc.testing.TestService"
        #expect(try await health.check(request).status == .serving)
        await transport.close()
        await service.shutdown()
        try await running.value
    }

    @Test func unsetPeersAndSecretBoxFailOnlyTheCallsThatNeedThem() async throws {
        let (service, running) = try await startService()
        let peer = #expect(throws: RPCError.self) { _ = try service.environment.peers.client(for: .ticketing) }
        #expect(peer?.code == .unavailable)
        #expect(peer?.message.contains("TICKETING_ADDR") == true)
        let box = #expect(throws: RPCError.self) { _ = try service.environment.requireSecretBox() }
        #expect(box?.code == .failedPrecondition)
        #expect(box?.message.contains("SECRET_BOX_KEYS") == true)
        await service.shutdown()
        try await running.value
    }
}
