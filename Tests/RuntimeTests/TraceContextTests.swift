import Logging
import RPCCore
import RuntimeObservability
import Synchronization
import Testing

@Suite("Observability: W3C trace context")
struct TraceContextTests {
    private let example = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    private func isValidTraceparent(_ value: String) -> Bool {
        value.wholeMatch(of: /00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}/) != nil
            && TraceContext(traceparent: value) != nil
    }

    private func context(_ metadata: Metadata) -> ServerContext {
        ServerContext(
            descriptor: MethodDescriptor(service: "observability.test.Trace", method: "Get", kind: .unary),
            metadata: metadata, deadline: nil, peer: "ipv4:127.0.0.1:1")
    }

    /// What the rest of a call saw of its trace.
    private struct Seen: Sendable {
        var trace: TraceContext?
        var requestID: String?
        var logMetadata: Logger.Metadata
    }

    private func serve(_ metadata: Metadata) async throws -> (Seen, ServerContext) {
        let context = context(metadata)
        let seen = Mutex<Seen?>(nil)
        try await TracingInterceptor().intercept(context: context) { _ in
            seen.withLock {
                $0 = Seen(trace: TraceContext.current, requestID: RequestID.current, logMetadata: LogContext.metadata)
            }
        }
        return (try #require(seen.withLock { $0 }), context)
    }

    @Test func parseAndFormatRoundTrip() throws {
        let context = try #require(TraceContext(traceparent: example, tracestate: "congo=t61rcWkgMzE"))
        #expect(context.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(context.spanID == "00f067aa0ba902b7")
        #expect(context.flags == 1 && context.isSampled)
        #expect(context.traceState == "congo=t61rcWkgMzE")
        #expect(context.traceparent == example)
        #expect(
            TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")?.isSampled == false)
        #expect(TraceContext(traceparent: " \(example)\t")?.traceparent == example)
    }

    @Test(arguments: [
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
        "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473z-00f067aa0ba902b7-01",
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
    ])
    func invalidTraceparentsAreRejected(_ value: String) {
        #expect(TraceContext(traceparent: value) == nil)
    }

    @Test func aLaterVersionIsReadAsVersion00() throws {
        let future = try #require(
            TraceContext(traceparent: "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what"))
        #expect(future.traceparent == example)
    }

    @Test func newTracesAndChildSpansHaveValidIds() {
        let root = TraceContext.random()
        #expect(isValidTraceparent(root.traceparent))
        #expect(root.isSampled)
        #expect(TraceContext.random(sampled: false).isSampled == false)
        #expect(TraceContext.random().traceID != root.traceID)
        let child = root.child()
        #expect(child.traceID == root.traceID)
        #expect(child.spanID != root.spanID)
        #expect(child.flags == root.flags)
        #expect(isValidTraceparent(child.traceparent))
    }

    @Test func newRequestIDsAreVersion4UUIDs() {
        let ids = (0..<200).map { _ in RequestID.generate() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            let groups = id.split(separator: "-", omittingEmptySubsequences: false).map(\.count)
            #expect(groups == [8, 4, 4, 4, 12], "\(id)")
            #expect(id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) || $0 == 0x2D })
            #expect(id.split(separator: "-")[2].first == "4")
            #expect("89ab".contains(id.split(separator: "-")[3].first!))
            #expect(RequestID.isAcceptable(id))
        }
    }

    @Test func theServerContinuesTheIncomingTraceInANewSpan() async throws {
        let (seen, context) = try await serve([
            "traceparent": .string(example), "tracestate": "congo=t61rcWkgMzE", "x-request-id": "req-123",
        ])
        let trace = try #require(seen.trace)
        #expect(trace.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(trace.spanID != "00f067aa0ba902b7")
        #expect(trace.traceState == "congo=t61rcWkgMzE")
        #expect(seen.requestID == "req-123")
        #expect(seen.logMetadata["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(seen.logMetadata["span_id"] == .string(trace.spanID))
        #expect(seen.logMetadata["request_id"] == "req-123")
        #expect(seen.logMetadata["method"] == "/observability.test.Trace/Get")
        #expect(context.response.headers[stringValues: "x-request-id"] == ["req-123"])
        #expect(TraceContext.current == nil && RequestID.current == nil && LogContext.metadata.isEmpty)
    }

    @Test func withoutAValidTraceparentTheServerStartsATrace() async throws {
        for metadata: Metadata in [[:], ["traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01"]] {
            let (seen, context) = try await serve(metadata)
            let trace = try #require(seen.trace)
            #expect(isValidTraceparent(trace.traceparent))
            #expect(trace.traceID != "00000000000000000000000000000000")
            let requestID = try #require(seen.requestID)
            #expect(
                requestID.wholeMatch(of: /[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/) != nil)
            #expect(context.response.headers[stringValues: "x-request-id"] == [requestID])
            #expect(seen.logMetadata["trace_id"] == .string(trace.traceID))
        }
    }

    @Test func anUnsafeRequestIdIsReplaced() async throws {
        let (seen, _) = try await serve(["x-request-id": .string("bad id with spaces")])
        #expect(seen.requestID != "bad id with spaces")
        #expect(seen.requestID.map(RequestID.isAcceptable) == true)
    }

    @Test func theClientSendsAChildOfTheCurrentSpanAndTheRequestId() async throws {
        let interceptor = TracePropagationInterceptor()
        let call = ClientCallInfo(
            descriptor: MethodDescriptor(service: "agentplane.v1.LLMService", method: "Complete", kind: .unary),
            metadata: ["authorization": "Bearer x"], options: .defaults)
        let current = try #require(TraceContext(traceparent: example, tracestate: "congo=t61rcWkgMzE"))

        let sent = try await TraceContext.$current.withValue(current) {
            try await RequestID.$current.withValue("req-9") {
                try await interceptor.intercept(call) { $0.metadata }
            }
        }
        let traceparent = try #require(sent.firstString(forKey: "traceparent"))
        let outbound = try #require(TraceContext(traceparent: traceparent))
        #expect(outbound.traceID == current.traceID)
        #expect(outbound.spanID != current.spanID)
        #expect(sent.firstString(forKey: "tracestate") == "congo=t61rcWkgMzE")
        #expect(sent.firstString(forKey: "x-request-id") == "req-9")
        #expect(sent.firstString(forKey: "authorization") == "Bearer x")

        var preset = call
        preset.metadata.addString("00-11111111111111111111111111111111-2222222222222222-00", forKey: "traceparent")
        preset.metadata.addString("mine", forKey: "x-request-id")
        let kept = try await TraceContext.$current.withValue(current) {
            try await RequestID.$current.withValue("req-9") {
                try await interceptor.intercept(preset) { $0.metadata }
            }
        }
        #expect(kept[stringValues: "traceparent"] == ["00-11111111111111111111111111111111-2222222222222222-00"])
        #expect(kept[stringValues: "x-request-id"] == ["mine"])

        let untraced = try await interceptor.intercept(call) { $0.metadata }
        #expect(untraced == call.metadata)
    }

    @Test func aCallMadeWhileServingCarriesTheIncomingTrace() async throws {
        let incoming = context(["traceparent": .string(example), "x-request-id": "req-chain"])
        let outbound = Mutex<Metadata?>(nil)
        try await TracingInterceptor().intercept(context: incoming) { _ in
            let call = ClientCallInfo(
                descriptor: MethodDescriptor(service: "agentplane.v1.KBService", method: "Search", kind: .unary),
                metadata: [:], options: .defaults)
            let sent = try await TracePropagationInterceptor().intercept(call) { $0.metadata }
            #expect(TraceContext.current.map { sent.firstString(forKey: "traceparent") != $0.traceparent } == true)
            outbound.withLock { $0 = sent }
        }
        let sent = try #require(outbound.withLock { $0 })
        let traceparent = try #require(sent.firstString(forKey: "traceparent"))
        #expect(TraceContext(traceparent: traceparent)?.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(sent.firstString(forKey: "x-request-id") == "req-chain")
    }
}
