import Foundation
import InteropTesting
import RPCCore
import RPCHTTP2
import RPCModels
import TestSupport
import Testing

@Suite("gRPC interop", .serialized)
struct InteropTests {
    @Test("our Swift client passes every interop case against Python grpcio's server")
    func swiftClientAgainstGrpcio() async throws {
        let server = try ChildProcess([
            "python3", repositoryRoot.appendingPathComponent("Tests/Interop/interop_server.py").path,
            repositoryRoot.path,
        ])
        defer { server.stop() }
        let line = try server.waitForLine(startingWith: "listening on ")
        let port = try #require(Int(line.dropFirst("listening on ".count)))
        let transport = HTTP2ClientTransport(host: "127.0.0.1", port: port)
        let client = RPCClient(transport: transport)
        for testCase in InteropClientCases.all {
            await #expect(throws: Never.self, "\(testCase.name)") { try await testCase.run(client) }
        }
        await transport.close()
    }

    @Test("our Swift client passes every interop case against our own server")
    func swiftClientAgainstSwiftServer() async throws {
        let server = InteropServer.make(port: 0)
        try await server.start()
        let transport = HTTP2ClientTransport(host: "127.0.0.1", port: try #require(server.port))
        let client = RPCClient(transport: transport)
        for testCase in InteropClientCases.all {
            await #expect(throws: Never.self, "\(testCase.name)") { try await testCase.run(client) }
        }
        await transport.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }

    /// Runs a Python script under Tests/Interop against our interop server; returns its exit
    /// status and output.
    private func runPythonAgainstOurServer(_ script: String) async throws -> (Int32, String) {
        let server = InteropServer.make(port: 0)
        try await server.start()
        let port = try #require(server.port)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", repositoryRoot.appendingPathComponent("Tests/Interop/\(script)").path, repositoryRoot.path,
            "--port", String(port),
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        await server.shutdown(gracePeriod: .seconds(1))
        return (process.terminationStatus, report)
    }

    @Test("Python grpcio's client passes every interop case against our server")
    func grpcioClientAgainstSwiftServer() async throws {
        let (status, report) = try await runPythonAgainstOurServer("interop_client.py")
        #expect(status == 0, "\(report)")
    }

    @Test("grpcio-health-checking and grpcio-reflection clients get correct answers")
    func grpcioHealthAndReflection() async throws {
        let (status, report) = try await runPythonAgainstOurServer("health_reflection_check.py")
        #expect(status == 0, "\(report)")
    }

    @Test("reflection v1 lists the services and finds the file declaring a method")
    func reflectionV1() async throws {
        let server = InteropServer.make(port: 0)
        try await server.start()
        let transport = HTTP2ClientTransport(host: "127.0.0.1", port: try #require(server.port))
        let client = Grpc_Reflection_V1_ServerReflection.Client(RPCClient(transport: transport))
        let replies = try await client.serverReflectionInfo(
            requests: { writer in
                try await writer.write(Grpc_Reflection_V1_ServerReflectionRequest(messageRequest: .listServices("")))
                try await writer.write(
                    Grpc_Reflection_V1_ServerReflectionRequest(
                        messageRequest: .fileContainingSymbol("grpc.testing.TestService.UnaryCall")))
                try await writer.write(
                    Grpc_Reflection_V1_ServerReflectionRequest(messageRequest: .fileContainingSymbol("no.Such")))
            },
            onResponse: { responses in
                var all: [Grpc_Reflection_V1_ServerReflectionResponse] = []
                for try await response in responses { all.append(response) }
                return all
            })
        #expect(replies.count == 3)
        let names = replies.first?.listServicesResponse?.service.map(\.name) ?? []
        #expect(names.contains("grpc.testing.TestService"))
        #expect(names.contains("grpc.health.v1.Health"))
        // test.proto first, then what it imports.
        #expect(replies.dropFirst().first?.fileDescriptorResponse?.fileDescriptorProto.count == 3)
        #expect(replies.last?.errorResponse?.errorCode == 5)
        await transport.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }
}
