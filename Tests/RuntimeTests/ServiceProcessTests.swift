import Foundation
import RPCCore
import RPCHTTP2
import RPCModels
import ServiceTestSupport
import TestSupport
import Testing

/// The lifecycle test service's executable, built next to the test bundle.
private let testServiceBinary = repositoryRoot.appendingPathComponent(".build/debug/RuntimeTestService").path

@Suite("A service as a process", .serialized)
struct ServiceProcessTests {
    private func freePort() -> Int { testServerPort(spread: 2) }

    @Test func sigtermDuringASlowCallLetsItFinish() async throws {
        let port = freePort()
        let adminPort = port + 1
        let service = try ChildProcess(
            [testServiceBinary], environment: minimalServiceEnvironment(port: port, adminPort: adminPort),
            captureStandardError: true)
        defer { service.stop() }
        let transport = HTTP2ClientTransport(host: "127.0.0.1", port: port)
        defer { Task { await transport.close() } }
        let client = Grpc_Testing_TestService.Client(RPCClient(transport: transport))
        // Wait until it serves.
        var ready = false
        for _ in 0..<200 where !ready {
            ready = (try? await client.emptyCall(Grpc_Testing_Empty(), metadata: try await bearer())) != nil
            if !ready { try await Task.sleep(for: .milliseconds(50)) }
        }
        try #require(ready, "the service did not start: \(service.standardError)")

        // Four responses, 400 ms apart: the call takes 1.6 s; SIGTERM arrives after the first.
        var request = Grpc_Testing_StreamingOutputCallRequest()
        request.responseParameters = (0..<4).map { _ in
            var parameters = Grpc_Testing_ResponseParameters()
            parameters.size = 8
            parameters.intervalUs = 400_000
            return parameters
        }
        let received = try await client.streamingOutputCall(request, metadata: try await bearer()) { responses in
            var count = 0
            for try await _ in responses {
                count += 1
                if count == 1 {
                    service.signal(SIGTERM)
                    // While draining the service reports itself not ready (polled: on a loaded
                    // machine the signal takes a moment to be handled).
                    var readiness = try await httpGet(port: adminPort, path: "/readyz")
                    for _ in 0..<50 where readiness.status != 503 {
                        try await Task.sleep(for: .milliseconds(50))
                        readiness = try await httpGet(port: adminPort, path: "/readyz")
                    }
                    #expect(readiness.status == 503)
                    #expect(readiness.body.contains("draining"))
                }
            }
            return count
        }
        #expect(received == 4)
        let status = try await service.waitForExit(timeout: .seconds(10))
        #expect(status == 0, "\(service.standardError)")
        // A new call finds nobody listening.
        await #expect(throws: RPCError.self) {
            _ = try await client.emptyCall(
                Grpc_Testing_Empty(), metadata: try await bearer(), options: .init(timeout: .seconds(1)))
        }
    }

    @Test func aBadConfigurationNamesEveryBadOrMissingKey() async throws {
        var environment = minimalServiceEnvironment(port: freePort())
        environment["ADMIN_PORT"] = nil
        environment["DATABASE_URL"] = nil
        environment["JWT_SECRET"] = nil
        environment["REDIS_URL"] = "http://not-redis"
        let scrubbed = ["PORT", "ADMIN_PORT", "DATABASE_URL", "REDIS_URL", "JWT_SECRET", "JWT_SECRET_FILE"]
        let service = try ChildProcess(
            ["env"] + scrubbed.map { "-u\($0)" } + environment.map { "\($0.key)=\($0.value)" } + [testServiceBinary],
            captureStandardError: true)
        defer { service.stop() }
        let status = try await service.waitForExit(timeout: .seconds(10))
        #expect(status == 2)
        let message = service.standardError
        for key in ["ADMIN_PORT", "DATABASE_URL", "JWT_SECRET", "REDIS_URL"] {
            #expect(message.contains(key), "\(message)")
        }
        #expect(message.split(separator: "\n").count == 1, "one message: \(message)")
    }
}
