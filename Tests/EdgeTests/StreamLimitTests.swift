import NIOPosix
import RPCCore
import RPCHTTP2
import RPCModels
import RuntimeConfig
import RuntimeSecurity
import Synchronization
import Testing

@testable import Edge

/// An execution service whose WatchRun streams one event, then holds the stream open until the
/// test lets go: the edge's event streams stay open as long as the test wants.
private final class HeldWatch: Agentplane_V1_ExecutionService.ServiceProtocol, Sendable {
    let release = Mutex(false)
    let opened = Atomic<Int>(0)

    func watchRun(
        request: Agentplane_V1_WatchRunRequest, response: ResponseWriter<Agentplane_V1_ExecutionEvent>,
        context: ServerContext
    ) async throws {
        opened.add(1, ordering: .relaxed)
        var event = Agentplane_V1_ExecutionEvent()
        event.runID = request.runID
        event.sequence = 1
        try await response.write(event)
        while !release.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(20)) }
    }

    func execute(
        request: Agentplane_V1_ExecuteRequest, response: ResponseWriter<Agentplane_V1_ExecutionEvent>,
        context: ServerContext
    ) async throws { throw RPCError(code: .unimplemented, message: "") }
    func resume(
        request: Agentplane_V1_ResumeRequest, response: ResponseWriter<Agentplane_V1_ExecutionEvent>,
        context: ServerContext
    ) async throws { throw RPCError(code: .unimplemented, message: "") }
    func getRun(request: Agentplane_V1_GetRunRequest, context: ServerContext) async throws
        -> Agentplane_V1_GetRunResponse
    { throw RPCError(code: .unimplemented, message: "") }
    func listRuns(request: Agentplane_V1_ListRunsRequest, context: ServerContext) async throws
        -> Agentplane_V1_ListRunsResponse
    { throw RPCError(code: .unimplemented, message: "") }
    func cancelRun(request: Agentplane_V1_CancelRunRequest, context: ServerContext) async throws
        -> Agentplane_V1_CancelRunResponse
    { throw RPCError(code: .unimplemented, message: "") }
    func listCheckpoints(request: Agentplane_V1_ListCheckpointsRequest, context: ServerContext) async throws
        -> Agentplane_V1_ListCheckpointsResponse
    { throw RPCError(code: .unimplemented, message: "") }
    func replayRun(
        request: Agentplane_V1_ReplayRunRequest, response: ResponseWriter<Agentplane_V1_ExecutionEvent>,
        context: ServerContext
    ) async throws { throw RPCError(code: .unimplemented, message: "") }
}

@Suite("Open event streams per tenant", .serialized)
struct StreamLimitTests {
    private static let secret = String(repeating: "s", count: 40)

    @Test func aTenantPastItsStreamsGets429AndAnotherTenantIsServed() async throws {
        let service = HeldWatch()
        let backend = GRPCServer(configuration: ServerConfiguration(port: 0), services: [service])
        try await backend.start()
        let backendPort = try #require(backend.port)
        var reader = ConfigReader(
            environment: [
                "PORT": "0", "ADMIN_PORT": "0", "HOST": "127.0.0.1", "JWT_SECRET": Self.secret,
                "EXECUTION_ADDR": "127.0.0.1:\(backendPort)", "EDGE_MAX_SSE_STREAMS_PER_TENANT": "2",
                "EDGE_SSE_HEARTBEAT": "1s",
            ], arguments: [])
        let configuration = EdgeConfiguration.load(reader: &reader)
        try reader.validate()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let edge = try await EdgeHost.start(configuration: configuration, eventLoops: group)
        let running = Task { try await edge.run() }
        defer { service.release.withLock { $0 = true } }

        let issuer = try TokenIssuer(secret: Array(Self.secret.utf8))
        func token(_ tenant: String) async throws -> String {
            try await issuer.issueAccessToken(tenantID: tenant, userID: "u-\(tenant)", role: .owner).token
        }
        let first = try await token("tenant-a")
        func watch(_ token: String) async throws -> RawConnection {
            let connection = try await RawConnection.connect(port: edge.port)
            await connection.send(
                "GET /v1/runs/r1/events HTTP/1.1\r\nhost: x\r\nauthorization: Bearer \(token)\r\n\r\n")
            return connection
        }
        // At the limit: both streams open (the first event arrived).
        let one = try await watch(first)
        let two = try await watch(first)
        #expect(await one.wait { $0.text.contains("id: 1") })
        #expect(await two.wait { $0.text.contains("id: 1") })
        // Past it: 429, as JSON, and the held streams go on.
        let three = try await watch(first)
        #expect(await three.wait { $0.firstStatus != nil })
        #expect(three.firstStatus == 429)
        #expect(three.text.contains("EDGE_MAX_SSE_STREAMS_PER_TENANT"))
        // Another tenant is not starved by the first one's streams.
        let other = try await watch(try await token("tenant-b"))
        #expect(await other.wait { $0.text.contains("id: 1") })
        // A quiet stream gets heartbeats.
        #expect(await one.wait { $0.text.contains(": keep-alive") })
        // A closed stream frees its slot.
        await two.close()
        #expect(
            await RawConnection.retrying(port: edge.port) { connection in
                await connection.send(
                    "GET /v1/runs/r1/events HTTP/1.1\r\nhost: x\r\nauthorization: Bearer \(first)\r\n\r\n")
                return await connection.wait(within: .seconds(3)) { $0.text.contains("id: 1") }
            })

        service.release.withLock { $0 = true }
        await edge.shutdown()
        _ = try? await running.value
        await backend.shutdown(gracePeriod: .seconds(1))
        try? await group.shutdownGracefully()
    }
}
