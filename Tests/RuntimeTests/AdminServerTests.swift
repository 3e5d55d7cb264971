import Foundation
import Prometheus
import RuntimeObservability
import Synchronization
import Testing

/// A Bool shared with a readiness closure.
private final class Flag: Sendable {
    private let state: Mutex<Bool>

    init(_ value: Bool) {
        state = Mutex(value)
    }

    var value: Bool {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}

@Suite("Observability: admin HTTP server")
struct AdminServerTests {
    /// Starts a server on a free port, runs `body`, and always shuts it down.
    private func withServer(
        readiness: @escaping @Sendable () async -> ReadinessReport = { .ready },
        _ body: (AdminServer, AdminTestClient) async throws -> Void
    ) async throws {
        let server = AdminServer(
            host: "127.0.0.1", port: 0, registry: PrometheusCollectorRegistry(), readiness: readiness)
        try await server.start()
        do {
            let port = try #require(server.port)
            try await body(server, AdminTestClient(port: port))
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
    }

    @Test func healthzAnswersOK() async throws {
        try await withServer { _, client in
            let response = try await client.get("/healthz")
            #expect(response.status == 200)
            #expect(response.body == "ok\n")
            #expect(response.headers["content-length"] == ["3"])
        }
    }

    @Test func readyzFollowsTheReadinessCheckAndNamesTheFailingOne() async throws {
        let postgres = Flag(true)
        let readiness: @Sendable () async -> ReadinessReport = {
            let up = postgres.value
            return ReadinessReport(
                ready: up, checks: ["postgres": up ? "ok" : "down: connection refused", "redis": "ok"])
        }
        try await withServer(readiness: readiness) { _, client in
            let ready = try await client.get("/readyz")
            #expect(ready.status == 200)
            #expect(ready.headers["content-type"].first?.hasPrefix("application/json") == true)
            let readyBody = try #require(
                try JSONSerialization.jsonObject(with: Data(ready.body.utf8)) as? [String: Any])
            #expect(readyBody["ready"] as? Bool == true)
            #expect(readyBody["checks"] as? [String: String] == ["postgres": "ok", "redis": "ok"])

            postgres.value = false
            let notReady = try await client.get("/readyz?verbose=1")
            #expect(notReady.status == 503)
            let body = try #require(
                try JSONSerialization.jsonObject(with: Data(notReady.body.utf8)) as? [String: Any])
            #expect(body["ready"] as? Bool == false)
            #expect((body["checks"] as? [String: String])?["postgres"] == "down: connection refused")
        }
    }

    @Test func unknownPathsAre404AndOtherMethods405() async throws {
        try await withServer { _, client in
            #expect(try await client.get("/nope").status == 404)
            #expect(try await client.get("/metrics/extra").status == 404)
            let exchange = try await client.send([.init(method: .POST, path: "/metrics")])
            let response = try #require(exchange.responses.first)
            #expect(response.status == 405)
            #expect(response.headers["allow"] == ["GET, HEAD"])
        }
    }

    @Test func headAnnouncesTheLengthWithoutABody() async throws {
        try await withServer { _, client in
            let exchange = try await client.send([
                .init(method: .HEAD, path: "/healthz"), .init(path: "/healthz"),
            ])
            #expect(exchange.responses.map(\.status) == [200, 200])
            #expect(exchange.responses[0].headers["content-length"] == ["3"])
            #expect(exchange.responses[0].body == "")
            #expect(exchange.responses[1].body == "ok\n")
        }
    }

    @Test func requestsShareAKeptAliveConnection() async throws {
        try await withServer { _, client in
            let exchange = try await client.send([
                .init(path: "/healthz"), .init(path: "/readyz"), .init(path: "/metrics"), .init(path: "/missing"),
            ])
            #expect(exchange.responses.map(\.status) == [200, 200, 200, 404])
            #expect(exchange.responses.allSatisfy { !$0.headers["connection"].contains("close") })
            #expect(!exchange.closedByServer)
        }
    }

    @Test func theServerClosesWhenTheClientAsksOrSpeaksHTTP10() async throws {
        try await withServer { _, client in
            let asked = try await client.send([.init(path: "/healthz", headers: [("connection", "close")])])
            #expect(asked.responses.first?.status == 200)
            #expect(asked.responses.first?.headers["connection"] == ["close"])
            #expect(asked.closedByServer)

            let old = try await client.send([.init(path: "/healthz", version: .http1_0)])
            #expect(old.responses.first?.body == "ok\n")
            #expect(old.closedByServer)

            let oldKeptAlive = try await client.send([
                .init(path: "/healthz", version: .http1_0, headers: [("connection", "keep-alive")]),
                .init(path: "/healthz", version: .http1_0, headers: [("connection", "keep-alive")]),
            ])
            #expect(oldKeptAlive.responses.map(\.status) == [200, 200])
            #expect(oldKeptAlive.responses.first?.headers["connection"] == ["keep-alive"])
            #expect(!oldKeptAlive.closedByServer)
        }
    }

    @Test func metricsServesTheRegistryInTheTextFormat() async throws {
        let registry = PrometheusCollectorRegistry()
        let widgets = MetricNameDescriptor(
            metricName: "admin_test_widgets", unitName: "total", helpText: "Widgets made by the test.")
        registry.makeCounter(descriptor: widgets, labels: [("kind", "blue")]).increment(by: Int64(3))
        let server = AdminServer(host: "127.0.0.1", port: 0, registry: registry)
        try await server.start()
        let response = try await AdminTestClient(port: try #require(server.port)).get("/metrics")
        await server.shutdown()
        #expect(response.status == 200)
        #expect(response.headers["content-type"].first?.hasPrefix("text/plain; version=0.0.4") == true)
        #expect(response.body.contains("# HELP admin_test_widgets_total Widgets made by the test.\n"))
        #expect(response.body.contains("admin_test_widgets_total{kind=\"blue\"} 3\n"))
    }

    @Test func afterShutdownThePortIsClosed() async throws {
        let server = AdminServer(host: "127.0.0.1", port: 0, registry: PrometheusCollectorRegistry())
        try await server.start()
        let port = try #require(server.port)
        #expect(try await AdminTestClient(port: port).get("/healthz").status == 200)
        await server.shutdown()
        #expect(server.port == nil)
        await #expect(throws: (any Error).self) { try await AdminTestClient(port: port).get("/healthz") }
        await server.shutdown()
    }
}
