import RPCCore
import Synchronization
import Testing

/// The client's retry policy: which calls run again after UNAVAILABLE, how often, and within what time.
@Suite("Retrying unavailable reads")
struct RetryInterceptorTests {
    /// Counts attempts and fails the first `failures` of them with `code`.
    final class FlakyCall: Sendable {
        let attempts = Atomic<Int>(0)
        let timeouts = Mutex<[Duration?]>([])
        let failures: Int
        let code: Status.Code

        init(failures: Int, code: Status.Code = .unavailable) {
            self.failures = failures
            self.code = code
        }

        func run(_ call: ClientCallInfo) throws -> String {
            timeouts.withLock { $0.append(call.options.timeout) }
            let attempt = attempts.add(1, ordering: .relaxed).newValue
            if attempt <= failures { throw RPCError(code: code, message: "the connection was lost") }
            return "answer"
        }
    }

    static func call(_ method: String, kind: CallKind = .unary, timeout: Duration? = nil) -> ClientCallInfo {
        ClientCallInfo(
            descriptor: MethodDescriptor(service: "agentplane.v1.KnowledgeBaseService", method: method, kind: kind),
            metadata: [:], options: CallOptions(timeout: timeout))
    }

    @Test func aReadThatMetADeadReplicaRunsOnceMore() async throws {
        let flaky = FlakyCall(failures: 1)
        let answer = try await RetryInterceptor().intercept(Self.call("Search")) { try flaky.run($0) }
        #expect(answer == "answer")
        #expect(flaky.attempts.load(ordering: .relaxed) == 2)
    }

    @Test func attemptsAreBounded() async throws {
        let flaky = FlakyCall(failures: 5)
        let error = await #expect(throws: RPCError.self) {
            try await RetryInterceptor(maximumAttempts: 3).intercept(Self.call("GetDocument")) { try flaky.run($0) }
        }
        #expect(error?.code == .unavailable)
        #expect(flaky.attempts.load(ordering: .relaxed) == 3)
    }

    @Test(arguments: [
        (method: "CreateTicket", kind: CallKind.unary, code: Status.Code.unavailable),
        (method: "Search", kind: CallKind.serverStreaming, code: Status.Code.unavailable),
        (method: "IndexDocument", kind: CallKind.clientStreaming, code: Status.Code.unavailable),
        (method: "Search", kind: CallKind.unary, code: Status.Code.deadlineExceeded),
        (method: "Search", kind: CallKind.unary, code: Status.Code.internalError),
    ])
    func writesStreamsAndOtherFailuresAreNotRepeated(method: String, kind: CallKind, code: Status.Code) async {
        let flaky = FlakyCall(failures: 1, code: code)
        await #expect(throws: RPCError.self) {
            try await RetryInterceptor().intercept(Self.call(method, kind: kind)) { try flaky.run($0) }
        }
        #expect(flaky.attempts.load(ordering: .relaxed) == 1)
    }

    @Test func aRetryGetsWhatIsLeftOfTheTimeout() async throws {
        // A long timeout: CPU-heavy suites running alongside may delay the 50 ms pause by
        // seconds, which must not use up the call's time (the retry would then be refused).
        let flaky = FlakyCall(failures: 1)
        _ = try await RetryInterceptor(backoff: .milliseconds(50)).intercept(
            Self.call("ListTickets", timeout: .seconds(60))
        ) { try flaky.run($0) }
        let timeouts = flaky.timeouts.withLock { $0 }
        #expect(timeouts.count == 2)
        #expect(timeouts[0] == .seconds(60))
        let second = try #require(timeouts[1])
        #expect(second < .seconds(60) - .milliseconds(49) && second > .zero)
    }
}
