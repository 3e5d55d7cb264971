import InteropTesting
import NIOCore
import RPCCore
import RPCModels
import Synchronization
import Testing

@testable import RPCHTTP2

/// A resolver whose answer the test chooses: IP addresses (on the asked port) or a failure.
final class ScriptedResolver: NameResolving {
    private let answer: Mutex<Result<[String], NameResolutionError>>
    private let count = Atomic<Int>(0)
    /// While set, lookups wait (a DNS server that does not answer) until `release()`.
    private let held = Mutex<(holding: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    init(_ addresses: [String]) {
        answer = Mutex(.success(addresses))
    }

    /// How many times the transport asked.
    var lookups: Int { count.load(ordering: .relaxed) }

    /// Answers `addresses` from now on.
    func answer(_ addresses: [String]) {
        answer.withLock { $0 = .success(addresses) }
    }

    /// Fails every lookup from now on.
    func fail(_ reason: String) {
        answer.withLock { $0 = .failure(NameResolutionError(host: "replicas.test", reason: reason)) }
    }

    /// Lookups from now on wait until `release()`.
    func hold() {
        held.withLock { $0.holding = true }
    }

    /// Lets the waiting lookups (and later ones) answer.
    func release() {
        let waiters = held.withLock { held in
            defer { held = (false, []) }
            return held.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func resolve(host: String, port: Int) async throws -> [SocketAddress] {
        count.add(1, ordering: .relaxed)
        await withCheckedContinuation { continuation in
            let wait = held.withLock { held in
                if held.holding { held.waiters.append(continuation) }
                return held.holding
            }
            if !wait { continuation.resume() }
        }
        return try answer.withLock { try $0.get() }.map { try SocketAddress(ipAddress: $0, port: port) }
    }
}

@Suite("The client's name resolution", .serialized)
struct ClientNameResolutionTests {
    /// A server on `host`, counting its calls; port 0 picks a free port.
    private func startServer(host: String, port: Int = 0, _ counter: CallCounter) async throws -> GRPCServer {
        let server = GRPCServer(
            configuration: ServerConfiguration(host: host, port: port, threads: 1),
            services: [TestServiceImplementation()], interceptors: [counter])
        try await server.start()
        return server
    }

    /// Two replicas on one port, as behind a headless Service: 127.0.0.1 and 127.0.0.2.
    private func startReplicas(_ counters: [CallCounter]) async throws -> (servers: [GRPCServer], port: Int) {
        let first = try await startServer(host: "127.0.0.1", counters[0])
        let port = try #require(first.port)
        let second = try await startServer(host: "127.0.0.2", port: port, counters[1])
        return ([first, second], port)
    }

    /// A transport to `replicas.test:port` answered by `resolver`, re-resolving only when told
    /// (or when a call finds no address up), without spacing so each test step is deterministic.
    private func transport(port: Int, resolver: ScriptedResolver) -> HTTP2ClientTransport {
        HTTP2ClientTransport(
            targets: [Target(host: "replicas.test", port: port)],
            configuration: ClientConfiguration(initialBackoff: .milliseconds(50), resolutionInterval: nil),
            resolver: resolver, reresolutionSpacing: .zero)
    }

    private func calls(_ client: Grpc_Testing_TestService.Client, _ count: Int) async throws {
        for _ in 0..<count { _ = try await client.emptyCall(Grpc_Testing_Empty()) }
    }

    @Test func callsSpreadOverEveryAddressAndFollowTheAnswerAsItShrinksAndGrows() async throws {
        let counters = [CallCounter(), CallCounter()]
        let (servers, port) = try await startReplicas(counters)
        let resolver = ScriptedResolver(["127.0.0.1", "127.0.0.2"])
        let transport = transport(port: port, resolver: resolver)
        let client = Grpc_Testing_TestService.Client(RPCClient(transport: transport))

        try await calls(client, 10)
        #expect(counters.map(\.value) == [5, 5])

        // A call in flight (one response now, one 400 ms later) on whichever replica took it.
        let before = counters.map(\.value)
        let (firstResponse, signal) = AsyncStream.makeStream(of: Void.self)
        let request = Grpc_Testing_StreamingOutputCallRequest(responseParameters: [
            Grpc_Testing_ResponseParameters(size: 1, intervalUs: 0),
            Grpc_Testing_ResponseParameters(size: 2, intervalUs: 400_000),
        ])
        let slow = Task {
            try await client.streamingOutputCall(request) { responses in
                var sizes: [Int] = []
                for try await response in responses {
                    sizes.append(response.payload?.body.count ?? -1)
                    signal.yield()
                }
                return sizes
            }
        }
        var arrivals = firstResponse.makeAsyncIterator()
        _ = await arrivals.next()
        let busy = try #require(counters.indices.first { counters[$0].value > before[$0] })
        let other = 1 - busy

        // The answer shrinks to the other replica: every new call goes there, the call in
        // flight on the removed one still completes.
        resolver.answer([["127.0.0.1", "127.0.0.2"][other]])
        await transport.resolveAllNames()
        let shrunk = counters.map(\.value)
        try await calls(client, 6)
        #expect(counters[other].value == shrunk[other] + 6)
        #expect(counters[busy].value == shrunk[busy])
        #expect(try await slow.value == [1, 2])
        // Its last call over, the removed replica's connection is closed.
        let drained = transport.drainingSubchannels
        #expect(drained.count == 1)
        #expect(drained.allSatisfy { $0.isDrained && !$0.isConnected })

        // It grows again: both are used.
        resolver.answer(["127.0.0.1", "127.0.0.2"])
        await transport.resolveAllNames()
        let grown = counters.map(\.value)
        try await calls(client, 10)
        #expect(counters[0].value == grown[0] + 5)
        #expect(counters[1].value == grown[1] + 5)

        // A failing resolver keeps the last known addresses.
        resolver.fail("SERVFAIL")
        await transport.resolveAllNames()
        let kept = counters.map(\.value)
        try await calls(client, 10)
        #expect(counters[0].value == kept[0] + 5)
        #expect(counters[1].value == kept[1] + 5)

        await transport.close()
        for server in servers { await server.shutdown(gracePeriod: .milliseconds(100)) }
    }

    @Test func concurrentCallsOnAFreshTransportAllSucceedOverBothReplicas() async throws {
        let counters = [CallCounter(), CallCounter()]
        let (servers, port) = try await startReplicas(counters)
        let transport = transport(port: port, resolver: ScriptedResolver(["127.0.0.1", "127.0.0.2"]))
        let client = Grpc_Testing_TestService.Client(RPCClient(transport: transport))
        // The first call on each address connects it; the calls arriving while both connect
        // pass over or wait for them, and none fails.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<40 { group.addTask { try await calls(client, 1) } }
            try await group.waitForAll()
        }
        #expect(counters[0].value + counters[1].value == 40)
        #expect(counters.allSatisfy { $0.value > 0 })
        await transport.close()
        for server in servers { await server.shutdown(gracePeriod: .milliseconds(100)) }
    }

    @Test func aNameNeverResolvedFailsUnavailableNamingTheHostAndTheReason() async throws {
        let counter = CallCounter()
        let server = try await startServer(host: "127.0.0.1", counter)
        let resolver = ScriptedResolver([])
        resolver.fail("SERVFAIL from the test")
        let transport = transport(port: try #require(server.port), resolver: resolver)
        let client = Grpc_Testing_TestService.Client(RPCClient(transport: transport))

        let error = await #expect(throws: RPCError.self) { _ = try await client.emptyCall(Grpc_Testing_Empty()) }
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("replicas.test") == true)
        #expect(error?.message.contains("SERVFAIL from the test") == true)

        // Once the name resolves, the next call resolves it and goes through.
        resolver.answer(["127.0.0.1"])
        try await calls(client, 1)
        #expect(counter.value == 1)
        await transport.close()
        await server.shutdown(gracePeriod: .milliseconds(100))
    }

    @Test func aResolverThatDoesNotAnswerHoldsACallOnlyUntilItsDeadline() async throws {
        let counter = CallCounter()
        let server = try await startServer(host: "127.0.0.1", counter)
        let resolver = ScriptedResolver(["127.0.0.1"])
        resolver.hold()
        let transport = transport(port: try #require(server.port), resolver: resolver)
        let client = Grpc_Testing_TestService.Client(RPCClient(transport: transport))

        let error = await #expect(throws: RPCError.self) {
            _ = try await client.emptyCall(Grpc_Testing_Empty(), options: CallOptions(timeout: .milliseconds(200)))
        }
        #expect(error?.code == .deadlineExceeded)
        #expect(error?.message.contains("replicas.test") == true)

        // A cancelled call stops waiting too.
        let cancelled = Task { try await client.emptyCall(Grpc_Testing_Empty()) }
        cancelled.cancel()
        await #expect(throws: RPCError.self) { _ = try await cancelled.value }

        // The answer arrives: the resolution under way completes and calls go through.
        resolver.release()
        try await calls(client, 2)
        #expect(counter.value == 2)
        await transport.close()
        await server.shutdown(gracePeriod: .milliseconds(100))
    }

    @Test func whenNoAddressAnswersTheCallResolvesAgainAndUsesTheNewAddress() async throws {
        let counters = [CallCounter(), CallCounter()]
        let (servers, port) = try await startReplicas(counters)
        let resolver = ScriptedResolver(["127.0.0.1"])
        let transport = transport(port: port, resolver: resolver)
        let client = Grpc_Testing_TestService.Client(RPCClient(transport: transport))
        try await calls(client, 2)
        #expect(counters.map(\.value) == [2, 0])

        // The replica is replaced: the old one stops, the name now points at the new one.
        await servers[0].shutdown(gracePeriod: .milliseconds(100))
        resolver.answer(["127.0.0.2"])
        let lookups = resolver.lookups
        try await calls(client, 3)
        #expect(counters[1].value == 3)
        #expect(resolver.lookups > lookups)

        await transport.close()
        await servers[1].shutdown(gracePeriod: .milliseconds(100))
    }

    @Test func aRefusedAddressOfANameIsPassedOverWithoutAnError() async throws {
        let counter = CallCounter()
        let server = try await startServer(host: "127.0.0.1", counter)
        // As "localhost" often resolves: ::1 first, where the server does not listen.
        let resolver = ScriptedResolver(["::1", "127.0.0.1"])
        let transport = transport(port: try #require(server.port), resolver: resolver)
        let client = Grpc_Testing_TestService.Client(RPCClient(transport: transport))
        try await calls(client, 10)
        #expect(counter.value == 10)
        await transport.close()
        await server.shutdown(gracePeriod: .milliseconds(100))
    }

    @Test func periodicResolutionPicksUpANewReplica() async throws {
        let counters = [CallCounter(), CallCounter()]
        let (servers, port) = try await startReplicas(counters)
        let resolver = ScriptedResolver(["127.0.0.1"])
        let transport = HTTP2ClientTransport(
            targets: [Target(host: "replicas.test", port: port)],
            configuration: ClientConfiguration(resolutionInterval: .milliseconds(20)), resolver: resolver)
        let client = Grpc_Testing_TestService.Client(RPCClient(transport: transport))
        try await calls(client, 2)
        #expect(counters.map(\.value) == [2, 0])

        resolver.answer(["127.0.0.1", "127.0.0.2"])
        // Two more rounds of the timer have certainly read the new answer (a timer that never
        // fires leaves the loop after 10 s and fails the expectations below).
        let seen = resolver.lookups
        for _ in 0..<1000 where resolver.lookups < seen + 2 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(resolver.lookups >= seen + 2)
        try await calls(client, 10)
        #expect(counters[0].value == 7)
        #expect(counters[1].value == 5)

        await transport.close()
        // Closed: the timer is gone and nothing is resolved any more.
        let afterClose = resolver.lookups
        await transport.resolveAllNames()
        #expect(resolver.lookups == afterClose)
        for server in servers { await server.shutdown(gracePeriod: .milliseconds(100)) }
    }

    @Test func anIPAddressTargetIsNeverResolved() async throws {
        let counter = CallCounter()
        let server = try await startServer(host: "127.0.0.1", counter)
        let resolver = ScriptedResolver(["127.0.0.2"])
        let transport = HTTP2ClientTransport(
            targets: [Target(host: "127.0.0.1", port: try #require(server.port))],
            configuration: ClientConfiguration(), resolver: resolver)
        let client = Grpc_Testing_TestService.Client(RPCClient(transport: transport))
        try await calls(client, 3)
        #expect(counter.value == 3)
        #expect(resolver.lookups == 0)
        await transport.close()
        await server.shutdown(gracePeriod: .milliseconds(100))
    }

    @Test func localhostResolvesWithGetaddrinfo() async throws {
        let addresses = try await SystemNameResolver().resolve(host: "localhost", port: 7000)
        #expect(addresses.contains(try SocketAddress(ipAddress: "127.0.0.1", port: 7000)))
        await #expect(throws: NameResolutionError.self) {
            _ = try await SystemNameResolver().resolve(host: "no-such-host.invalid", port: 7000)
        }

        let counter = CallCounter()
        let server = try await startServer(host: "127.0.0.1", counter)
        let transport = HTTP2ClientTransport(host: "localhost", port: try #require(server.port))
        let client = Grpc_Testing_TestService.Client(RPCClient(transport: transport))
        try await calls(client, 10)
        #expect(counter.value == 10)
        await transport.close()
        await server.shutdown(gracePeriod: .milliseconds(100))
    }
}
