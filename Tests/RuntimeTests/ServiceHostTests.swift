import Foundation
import FoundationNetworking
import InteropTesting
import RPCCore
import RPCHTTP2
import RPCModels
import RuntimeConfig
import RuntimePostgres
import RuntimeRedis
import RuntimeSecurity
import ServiceTestSupport
import Testing

@testable import Runtime

@Suite("Service host", .serialized)
struct ServiceHostTests {
    private func startService() async throws -> (RunningService, Task<Void, any Error>) {
        let service = try await ServiceHost.start(
            ServiceDefinition(name: "host-test") { _ in ServiceAssembly(services: [TestServiceImplementation()]) },
            environment: minimalServiceEnvironment(), arguments: [])
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

    @Test func storeFailuresReachCallersAsStatusesTheyCanActOn() {
        let cases: [(any Error, Status.Code)] = [
            (PostgresError(code: .connection, message: "gone"), .unavailable),
            (PostgresError(code: .poolTimeout, message: "busy"), .unavailable),
            (PostgresError(code: .serializationFailure, message: "conflict"), .aborted),
            (PostgresError(code: .queryCanceled, message: "slow"), .deadlineExceeded),
            (PostgresError(code: .server, message: "secret detail"), .internalError),
            (RedisError(code: .connection, message: "gone"), .unavailable),
            (CocoaError(.fileNoSuchFile), .internalError),
        ]
        for (error, code) in cases {
            let mapped = ErrorMappingInterceptor.status(for: error)
            #expect(mapped.code == code, "\(error)")
            #expect(!mapped.message.contains("secret detail"))
        }
    }
}
