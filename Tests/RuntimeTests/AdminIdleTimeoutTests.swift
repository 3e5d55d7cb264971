import NIOCore
import NIOPosix
import Prometheus
import RuntimeObservability
import Testing

@Suite("Observability: the admin port closes idle connections")
struct AdminIdleTimeoutTests {
    @Test func aConnectionThatSendsNothingIsClosedAfterTheIdleTimeout() async throws {
        let server = AdminServer(
            host: "127.0.0.1", port: 0, registry: PrometheusCollectorRegistry(), idleTimeout: .seconds(2))
        try await server.start()
        let port = try #require(server.port)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port).get()
        let opened = ContinuousClock.now
        // Still open well before the limit.
        try await Task.sleep(for: .milliseconds(200))
        #expect(channel.isActive)
        // Closed by the server after it: bounded wait.
        let deadline = opened + .seconds(10)
        while channel.isActive, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(!channel.isActive)
        // The port itself keeps answering.
        #expect(try await AdminTestClient(port: port).get("/healthz").status == 200)
        try? await channel.close()
        await server.shutdown()
    }
}
