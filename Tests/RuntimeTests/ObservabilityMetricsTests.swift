import Prometheus
import RPCCore
import RuntimeObservability
import Testing

private struct HandlerBroke: Error {}

@Suite("Observability: RPC metrics")
struct ObservabilityMetricsTests {
    /// A method of its own per test: the registry is shared by the whole test process.
    private func uniqueMethod(_ name: String) -> MethodDescriptor {
        MethodDescriptor(
            service: "observability.test.M\(UInt32.random(in: 0...UInt32.max))", method: name, kind: .unary)
    }

    private func context(
        _ method: MethodDescriptor, deadline: ContinuousClock.Instant? = nil
    ) -> ServerContext {
        ServerContext(descriptor: method, metadata: [:], deadline: deadline, peer: "ipv4:127.0.0.1:1")
    }

    /// The value of the exposition line `name{labels}`, if there is one.
    private func value(_ exposition: String, _ series: String) -> Double? {
        for line in exposition.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test func bootstrapReturnsTheSameRegistryEveryTime() {
        let first = Observability.bootstrapMetrics()
        let second = Observability.bootstrapMetrics()
        #expect(first === second)
    }

    @Test func callsAreCountedByStatusAndTimedThenServedOnMetrics() async throws {
        let registry = Observability.bootstrapMetrics()
        let interceptor = MetricsInterceptor()
        let method = uniqueMethod("EmptyCall")
        let path = method.path

        for _ in 0..<2 {
            try await interceptor.intercept(context: context(method)) { _ in
                try await Task.sleep(for: .milliseconds(3))
            }
        }
        await #expect(throws: RPCError.self) {
            try await interceptor.intercept(context: context(method)) { _ in
                throw RPCError(code: .notFound, message: "no such agent")
            }
        }
        await #expect(throws: CancellationError.self) {
            try await interceptor.intercept(context: context(method)) { _ in throw CancellationError() }
        }
        await #expect(throws: CancellationError.self) {
            try await interceptor.intercept(context: context(method, deadline: .now - .seconds(1))) { _ in
                throw CancellationError()
            }
        }
        await #expect(throws: HandlerBroke.self) {
            try await interceptor.intercept(context: context(method)) { _ in throw HandlerBroke() }
        }

        let server = AdminServer(host: "127.0.0.1", port: 0, registry: registry)
        try await server.start()
        let response = try await AdminTestClient(port: try #require(server.port)).get("/metrics")
        await server.shutdown()
        #expect(response.status == 200)
        let text = response.body

        let requests = "rpc_server_requests_total"
        #expect(value(text, "\(requests){method=\"\(path)\",code=\"OK\"}") == 2)
        #expect(value(text, "\(requests){method=\"\(path)\",code=\"NOT_FOUND\"}") == 1)
        #expect(value(text, "\(requests){method=\"\(path)\",code=\"CANCELLED\"}") == 1)
        #expect(value(text, "\(requests){method=\"\(path)\",code=\"DEADLINE_EXCEEDED\"}") == 1)
        #expect(value(text, "\(requests){method=\"\(path)\",code=\"UNKNOWN\"}") == 1)
        #expect(value(text, "rpc_server_errors_total{method=\"\(path)\",code=\"NOT_FOUND\"}") == 1)
        #expect(value(text, "rpc_server_errors_total{method=\"\(path)\",code=\"UNKNOWN\"}") == 1)
        #expect(value(text, "rpc_server_errors_total{method=\"\(path)\",code=\"OK\"}") == nil)

        let histogram = "rpc_server_duration_seconds"
        #expect(value(text, "\(histogram)_count{method=\"\(path)\"}") == 6)
        let sum = try #require(value(text, "\(histogram)_sum{method=\"\(path)\"}"))
        #expect(sum >= 0.006 && sum < 30)
        #expect(value(text, "\(histogram)_bucket{method=\"\(path)\",le=\"+Inf\"}") == 6)
        // The two successful calls slept 3 ms, so at most four calls fit under 1 ms.
        let fastest = try #require(value(text, "\(histogram)_bucket{method=\"\(path)\",le=\"0.001\"}"))
        #expect(fastest <= 4)
        #expect(value(text, "\(histogram)_bucket{method=\"\(path)\",le=\"30.0\"}") == 6)
        #expect(value(text, "rpc_server_in_flight{method=\"\(path)\"}") == 0)
    }

    @Test func theInFlightGaugeCountsRunningCalls() async throws {
        let registry = Observability.bootstrapMetrics()
        let interceptor = MetricsInterceptor()
        let method = uniqueMethod("Stream")
        let series = "rpc_server_in_flight{method=\"\(method.path)\"}"
        try await interceptor.intercept(context: context(method)) { [self] _ in
            try await interceptor.intercept(context: context(method)) { _ in
                #expect(value(registry.emitToString(), series) == 2)
            }
            #expect(value(registry.emitToString(), series) == 1)
        }
        #expect(value(registry.emitToString(), series) == 0)
    }

    @Test func clientCallsAreCountedAndTimedInTheirOwnRegistry() async throws {
        let registry = PrometheusCollectorRegistry()
        let interceptor = ClientMetricsInterceptor(factory: PrometheusMetricsFactory(registry: registry))
        let method = uniqueMethod("Complete")
        let call = ClientCallInfo(descriptor: method, metadata: [:], options: .defaults)
        let answer = try await interceptor.intercept(call) { _ in 42 }
        #expect(answer == 42)
        await #expect(throws: RPCError.self) {
            try await interceptor.intercept(call) { _ -> Int in throw RPCError(code: .unavailable, message: "down") }
        }
        let text = registry.emitToString()
        #expect(value(text, "rpc_client_requests_total{method=\"\(method.path)\",code=\"OK\"}") == 1)
        #expect(value(text, "rpc_client_requests_total{method=\"\(method.path)\",code=\"UNAVAILABLE\"}") == 1)
        #expect(value(text, "rpc_client_duration_seconds_count{method=\"\(method.path)\"}") == 2)
        #expect(!text.contains("rpc_server_"))
    }
}
