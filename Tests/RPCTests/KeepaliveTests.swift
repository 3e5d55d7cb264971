import Foundation
import InteropTesting
import RPCCore
import RPCHTTP2
import RPCModels
import TestSupport
import Testing

@Suite("Keepalive and client limits")
struct KeepaliveTests {
    private func startServer(keepalive: Duration) async throws -> GRPCServer {
        let server = GRPCServer(
            configuration: ServerConfiguration(
                port: 0, keepaliveInterval: keepalive, keepaliveTimeout: .milliseconds(200), threads: 1),
            services: [TestServiceImplementation()])
        try await server.start()
        return server
    }

    @Test("a silent peer is pinged and dropped when it does not answer")
    func silentPeerIsPingedThenDropped() async throws {
        let server = try await startServer(keepalive: .milliseconds(200))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", repositoryRoot.appendingPathComponent("Tests/Interop/keepalive_check.py").path,
            repositoryRoot.path, "--port", String(try #require(server.port)), "--within", "3",
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(report)")
        await server.shutdown(gracePeriod: .milliseconds(100))
    }

    @Test("a client that answers pings keeps its connection through idle periods")
    func answeringClientStaysConnected() async throws {
        let server = try await startServer(keepalive: .milliseconds(100))
        let transport = HTTP2ClientTransport(
            host: "127.0.0.1", port: try #require(server.port),
            configuration: ClientConfiguration(keepaliveInterval: .milliseconds(100)))
        let client = Grpc_Testing_TestService.Client(RPCClient(transport: transport))
        _ = try await client.emptyCall(Grpc_Testing_Empty())
        try await Task.sleep(for: .milliseconds(700))
        _ = try await client.emptyCall(Grpc_Testing_Empty())
        await transport.close()
        await server.shutdown(gracePeriod: .milliseconds(100))
    }

    @Test("a response over the client's size limit is RESOURCE_EXHAUSTED")
    func clientReceiveLimit() async throws {
        let server = try await startServer(keepalive: .seconds(60))
        let transport = HTTP2ClientTransport(
            host: "127.0.0.1", port: try #require(server.port),
            configuration: ClientConfiguration(maximumReceiveMessageSize: 1000))
        let client = Grpc_Testing_TestService.Client(RPCClient(transport: transport))
        let small = try await client.unaryCall(Grpc_Testing_SimpleRequest(responseSize: 100))
        #expect(small.payload?.body.count == 100)
        let error = await #expect(throws: RPCError.self) {
            _ = try await client.unaryCall(Grpc_Testing_SimpleRequest(responseSize: 5000))
        }
        #expect(error?.code == .resourceExhausted)
        await transport.close()
        await server.shutdown(gracePeriod: .milliseconds(100))
    }
}
