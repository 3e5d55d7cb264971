import InteropTesting
import RPCCore
import RPCHTTP2
import RPCModels
import Synchronization
import Testing

/// Records how each call's handler ended, as a server interceptor sees it.
final class OutcomeRecorder: ServerInterceptor {
    struct Outcome: Sendable {
        let method: String
        let cancelled: Bool
        let hadDeadline: Bool
    }

    private let outcomes = Mutex<[Outcome]>([])
    private let started = Mutex<[String]>([])

    func intercept(context: ServerContext, next: @Sendable (ServerContext) async throws -> Void) async throws {
        started.withLock { $0.append(context.descriptor.method) }
        do {
            try await next(context)
            record(Outcome(method: context.descriptor.method, cancelled: false, hadDeadline: context.deadline != nil))
        } catch {
            let cancelled = error is CancellationError || Task.isCancelled
            record(
                Outcome(method: context.descriptor.method, cancelled: cancelled, hadDeadline: context.deadline != nil))
            throw error
        }
    }

    private func record(_ outcome: Outcome) {
        outcomes.withLock { $0.append(outcome) }
    }

    /// Waits up to `timeout` until a handler of `method` has started.
    func waitUntilStarted(_ method: String, within timeout: Duration = .seconds(10)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        repeat {
            if started.withLock({ $0.contains(method) }) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        } while ContinuousClock.now < deadline
        return false
    }

    /// Waits up to `timeout` for an outcome of `method`.
    func outcome(of method: String, within timeout: Duration = .seconds(5)) async -> Outcome? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let found = outcomes.withLock({ $0.first { $0.method == method } }) { return found }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }
}

@Suite("Deadlines and cancellation reach the handler")
struct CancellationTests {
    /// Asks for one response after 30 s: the handler sleeps in `Task.sleep`.
    static let sleepingRequest = Grpc_Testing_StreamingOutputCallRequest(
        responseParameters: [Grpc_Testing_ResponseParameters(size: 1, intervalUs: 30_000_000)])

    @Test func clientGoingAwayCancelsTheSleepingHandler() async throws {
        let recorder = OutcomeRecorder()
        let server = GRPCServer(
            configuration: ServerConfiguration(port: 0), services: [TestServiceImplementation()],
            interceptors: [recorder])
        try await server.start()
        let transport = HTTP2ClientTransport(host: "127.0.0.1", port: try #require(server.port))
        let client = Grpc_Testing_TestService.Client(RPCClient(transport: transport))
        let call = Task {
            try await client.streamingOutputCall(Self.sleepingRequest) { responses in
                for try await _ in responses {}
            }
        }
        // Cancel once the handler runs (on a loaded machine the request may take a while to
        // arrive; a call reset before its handler starts never runs one).
        #expect(await recorder.waitUntilStarted("StreamingOutputCall"))
        call.cancel()
        let error = await #expect(throws: RPCError.self) { try await call.value }
        #expect(error?.code == .cancelled)
        let outcome = await recorder.outcome(of: "StreamingOutputCall")
        #expect(outcome?.cancelled == true)
        await transport.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }

    @Test func deadlineEndsTheCallAndCancelsTheHandler() async throws {
        let recorder = OutcomeRecorder()
        let server = GRPCServer(
            configuration: ServerConfiguration(port: 0), services: [TestServiceImplementation()],
            interceptors: [recorder])
        try await server.start()
        let transport = HTTP2ClientTransport(host: "127.0.0.1", port: try #require(server.port))
        let client = Grpc_Testing_TestService.Client(RPCClient(transport: transport))
        let started = ContinuousClock.now
        let error = await #expect(throws: RPCError.self) {
            try await client.streamingOutputCall(
                // Long enough for the request to reach the handler on a loaded machine: a call
                // whose deadline passes before its handler starts never runs one.
                Self.sleepingRequest, options: CallOptions(timeout: .seconds(2))
            ) {
                responses in for try await _ in responses {}
            }
        }
        #expect(error?.code == .deadlineExceeded)
        #expect(ContinuousClock.now - started < .seconds(8))
        // A handler that started is cancelled at the deadline. (On a starved machine the call can
        // reach its deadline before the handler ever ran; then there is nothing to cancel.)
        if await recorder.waitUntilStarted("StreamingOutputCall", within: .zero) {
            let outcome = await recorder.outcome(of: "StreamingOutputCall")
            #expect(outcome?.cancelled == true)
            #expect(outcome?.hadDeadline == true)
        }
        await transport.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }

    @Test func outboundCallsInheritWhatIsLeftOfTheDeadline() {
        let deadline = ContinuousClock.now + .seconds(2)
        let context = ServerContext(
            descriptor: MethodDescriptor(service: "s", method: "m", kind: .unary), metadata: [:], deadline: deadline,
            peer: "test")
        ServerContext.$current.withValue(context) {
            #expect(CallOptions().effectiveDeadline() == deadline)
            #expect(CallOptions(timeout: .seconds(60)).effectiveDeadline() == deadline)
            let sooner = CallOptions(timeout: .milliseconds(10)).effectiveDeadline()
            #expect(sooner.map { $0 < deadline } == true)
        }
        #expect(CallOptions().effectiveDeadline() == nil)
    }

    @Test func aCallCutShortByCancellationEndsCancelledNotInternal() async {
        struct DriverFailure: Error {}
        let internalError = RPCError(code: .internalError, message: "the database call was cut short")
        // Outside a cancelled task the errors keep their meaning.
        #expect(ServerCallRunner.status(for: internalError, deadline: nil).code == .internalError)
        #expect(ServerCallRunner.status(for: DriverFailure(), deadline: nil).code == .unknown)
        let statuses = Task { () -> [Status.Code] in
            while !Task.isCancelled { await Task.yield() }
            return [
                ServerCallRunner.status(for: internalError, deadline: nil).code,
                ServerCallRunner.status(for: DriverFailure(), deadline: nil).code,
                ServerCallRunner.status(for: internalError, deadline: .now - .seconds(1)).code,
                ServerCallRunner.status(for: RPCError(code: .notFound, message: "no such agent"), deadline: nil).code,
            ]
        }
        statuses.cancel()
        #expect(await statuses.value == [.cancelled, .cancelled, .deadlineExceeded, .notFound])
    }

    @Test func unknownMethodsAreUnimplemented() async throws {
        let server = InteropServer.make(port: 0)
        try await server.start()
        let transport = HTTP2ClientTransport(host: "127.0.0.1", port: try #require(server.port))
        let rpc = RPCClient(transport: transport)
        let error = await #expect(throws: RPCError.self) {
            _ = try await Grpc_Testing_UnimplementedService.Client(rpc).unimplementedCall(Grpc_Testing_Empty())
        }
        #expect(error?.code == .unimplemented)
        #expect(error?.message.contains("grpc.testing.UnimplementedService") == true)
        await transport.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }
}
