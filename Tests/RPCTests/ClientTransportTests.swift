import InteropTesting
import NIOPosix
import RPCCore
import RPCHTTP2
import RPCModels
import Synchronization
import Testing

/// Counts the calls a server handles.
final class CallCounter: ServerInterceptor {
    private let count = Atomic<Int>(0)

    var value: Int { count.load(ordering: .relaxed) }

    func intercept(context: ServerContext, next: @Sendable (ServerContext) async throws -> Void) async throws {
        count.add(1, ordering: .relaxed)
        try await next(context)
    }
}

/// Adds a metadata entry to every call, as an authentication interceptor would.
struct AddingMetadata: ClientInterceptor {
    func intercept<Result: Sendable>(
        _ call: ClientCallInfo, next: @Sendable (ClientCallInfo) async throws -> Result
    ) async throws -> Result {
        var call = call
        call.metadata.addString("from-the-interceptor", forKey: "x-grpc-test-echo-initial")
        return try await next(call)
    }
}

@Suite("The client transport", .serialized)
struct ClientTransportTests {
    private func startServer(_ counter: CallCounter) async throws -> GRPCServer {
        let server = GRPCServer(
            configuration: ServerConfiguration(port: 0, threads: 1), services: [TestServiceImplementation()],
            interceptors: [counter])
        try await server.start()
        return server
    }

    @Test("a server and a client on a group of the caller's share it, and leave stopping it to the caller")
    func aSharedGroupOutlivesTheServerAndTheClient() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = GRPCServer(
            configuration: ServerConfiguration(port: 0), services: [TestServiceImplementation()],
            eventLoopGroup: group)
        try await server.start()
        let transport = HTTP2ClientTransport(
            targets: [Target(host: "127.0.0.1", port: try #require(server.port))], eventLoopGroup: group)
        let client = Grpc_Testing_TestService.Client(RPCClient(transport: transport))
        for _ in 0..<3 { _ = try await client.emptyCall(Grpc_Testing_Empty()) }
        await transport.close()
        await server.shutdown(gracePeriod: .seconds(1))
        // Still running: both left it alone.
        #expect(try await group.next().submit { 42 }.get() == 42)
        try await group.shutdownGracefully()
    }

    @Test func callsAreSpreadRoundRobinAndFailOverWhenATargetGoesAway() async throws {
        let counters = [CallCounter(), CallCounter()]
        let first = try await startServer(counters[0])
        let second = try await startServer(counters[1])
        let transport = HTTP2ClientTransport(
            targets: [
                Target(host: "127.0.0.1", port: try #require(first.port)),
                Target(host: "127.0.0.1", port: try #require(second.port)),
            ],
            configuration: ClientConfiguration(initialBackoff: .milliseconds(50)))
        let client = Grpc_Testing_TestService.Client(RPCClient(transport: transport))
        for _ in 0..<10 { _ = try await client.emptyCall(Grpc_Testing_Empty()) }
        #expect(counters[0].value == 5)
        #expect(counters[1].value == 5)

        await first.shutdown(gracePeriod: .milliseconds(100))
        for _ in 0..<10 { _ = try await client.emptyCall(Grpc_Testing_Empty()) }
        #expect(counters[1].value == 15)
        await transport.close()
        await second.shutdown(gracePeriod: .milliseconds(100))
    }

    @Test func anUnreachableTargetIsUnavailableAndTheClientReconnectsLater() async throws {
        let counter = CallCounter()
        // A port that was free a moment ago: nothing listens there yet.
        let probe = try await startServer(counter)
        let port = try #require(probe.port)
        await probe.shutdown(gracePeriod: .milliseconds(50))

        let transport = HTTP2ClientTransport(
            host: "127.0.0.1", port: port, configuration: ClientConfiguration(initialBackoff: .milliseconds(100)))
        let client = Grpc_Testing_TestService.Client(RPCClient(transport: transport))
        let error = await #expect(throws: RPCError.self) { _ = try await client.emptyCall(Grpc_Testing_Empty()) }
        #expect(error?.code == .unavailable)

        let server = GRPCServer(
            configuration: ServerConfiguration(port: port, threads: 1), services: [TestServiceImplementation()])
        try await server.start()
        try await Task.sleep(for: .milliseconds(300))
        _ = try await client.emptyCall(Grpc_Testing_Empty())
        await transport.close()
        await server.shutdown(gracePeriod: .milliseconds(100))
    }

    @Test func gracefulShutdownLetsACallInFlightFinish() async throws {
        let counter = CallCounter()
        let server = try await startServer(counter)
        let transport = HTTP2ClientTransport(host: "127.0.0.1", port: try #require(server.port))
        let client = Grpc_Testing_TestService.Client(RPCClient(transport: transport))
        // One response after 300 ms: in flight when the shutdown starts.
        let request = Grpc_Testing_StreamingOutputCallRequest(
            responseParameters: [Grpc_Testing_ResponseParameters(size: 7, intervalUs: 300_000)])
        let call = Task {
            try await client.streamingOutputCall(request) { responses in
                var sizes: [Int] = []
                for try await response in responses { sizes.append(response.payload?.body.count ?? -1) }
                return sizes
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        await server.shutdown(gracePeriod: .seconds(5))
        #expect(try await call.value == [7])
        await transport.close()
    }

    @Test func clientInterceptorsSeeAndChangeEveryCall() async throws {
        let server = try await startServer(CallCounter())
        let transport = HTTP2ClientTransport(host: "127.0.0.1", port: try #require(server.port))
        let rpc = RPCClient(transport: transport, interceptors: [AddingMetadata()])
        typealias Unary = Grpc_Testing_TestService.Method.UnaryCall
        // The test service echoes x-grpc-test-echo-initial in its response headers.
        let response = try await rpc.unary(
            Unary.descriptor, request: Grpc_Testing_SimpleRequest(responseSize: 3), encode: { $0.serializedBytes() },
            decode: Unary.decodeResponse)
        #expect(response.headers[stringValues: "x-grpc-test-echo-initial"] == ["from-the-interceptor"])
        #expect(response.message.payload?.body.count == 3)
        await transport.close()
        await server.shutdown(gracePeriod: .milliseconds(100))
    }
}
