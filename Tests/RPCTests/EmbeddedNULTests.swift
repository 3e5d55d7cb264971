import InteropTesting
import RPCCore
import RPCHTTP2
import RPCModels
import Testing

@Suite("A request string holding a NUL byte is refused with INVALID_ARGUMENT through a real server")
struct EmbeddedNULTests {
    /// HealthCheckRequest.service (field 1) as raw bytes: our encoder could not send a NUL.
    private func healthCheckRequest(_ service: [UInt8]) -> [UInt8] {
        [0x0A, UInt8(service.count)] + service
    }

    @Test("Check for \"\\0anything\" is INVALID_ARGUMENT naming the field, not the whole server's SERVING")
    func healthCheckWithANUL() async throws {
        let server = InteropServer.make(port: 0)
        try await server.start()
        let transport = HTTP2ClientTransport(host: "127.0.0.1", port: try #require(server.port))
        let rpc = RPCClient(transport: transport)
        let check = Grpc_Health_V1_Health.Method.Check.self
        // Bounded: on a server that cuts the name at the NUL, Watch would stream SERVING forever.
        let bounded = CallOptions(timeout: .seconds(10))

        let error = await #expect(throws: RPCError.self) {
            try await rpc.unary(
                check.descriptor, request: healthCheckRequest([0] + Array("anything".utf8)), options: bounded,
                encode: { $0 }, decode: check.decodeResponse)
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message == "grpc.health.v1.HealthCheckRequest.service contains a NUL byte")

        // A server-streaming call decodes its request the same way.
        let watch = Grpc_Health_V1_Health.Method.Watch.self
        let watchError = await #expect(throws: RPCError.self) {
            try await rpc.serverStreaming(
                watch.descriptor, request: healthCheckRequest(Array("grpc.testing.TestService".utf8) + [0, 0x78]),
                options: bounded, encode: { $0 }, decode: watch.decodeResponse,
                onResponse: { responses in
                    for try await _ in responses {}
                })
        }
        #expect(watchError?.code == .invalidArgument)

        // The same service name without the NUL is answered as before.
        let client = Grpc_Health_V1_Health.Client(rpc)
        let serving = try await client.check(Grpc_Health_V1_HealthCheckRequest(service: "grpc.testing.TestService"))
        #expect(serving.status == .serving)
        await transport.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }
}
