import Foundation
import InteropTesting
import RPCCore
import RPCHTTP2
import RPCModels
import Saturating
import Testing

/// The numbers and sizes a client controls, at their limits and past them: nothing traps,
/// every call is answered, and what is cut is cut visibly.
@Suite("Hostile input at and past its limits")
struct HostileInputLimitTests {
    @Test func grpcTimeoutParsesItsWholeRangeWithoutOverflow() {
        // 8 digits is the largest valid value: 99999999 hours are 359,999,996,400 seconds.
        #expect(WireFormats.decodeTimeout("99999999H") == .seconds(359_999_996_400))
        #expect(WireFormats.decodeTimeout("99999999M") == .seconds(5_999_999_940))
        #expect(WireFormats.decodeTimeout("99999999n") == .nanoseconds(99_999_999))
        // Past it: 9 digits, signs and unknown units are malformed.
        #expect(WireFormats.decodeTimeout("100000000H") == nil)
        #expect(WireFormats.decodeTimeout("-1S") == nil)
        #expect(WireFormats.decodeTimeout("+1S") == nil)
        // Encoding any duration, however long, saturates instead of trapping.
        #expect(WireFormats.encodeTimeout(.seconds(Int64.max)) == "99999999H")
        #expect(WireFormats.encodeTimeout(.seconds(359_999_996_400)) == "99999999H")
        #expect(WireFormats.encodeTimeout(.seconds(-5)) == "0n")
    }

    @Test func saturatingConversionsClampInsteadOfTrapping() {
        #expect(Duration.seconds(Int64.max).saturatingNanoseconds == Int64.max)
        #expect(Duration.seconds(Int64.min).saturatingMilliseconds == Int64.min)
        #expect(Duration.seconds(9_223_372_036).saturatingNanoseconds == 9_223_372_036_000_000_000)
        #expect(Duration.seconds(9_223_372_037).saturatingNanoseconds == Int64.max)
        #expect(Duration.milliseconds(1500).saturatingSeconds == 1)
        #expect(Duration.seconds(Int64.max, times: 3600) > .seconds(Int64.max))
        #expect(Saturating.multiply(Int64.max / 2, 3) == Int64.max)
        #expect(Saturating.multiply(Int64.min, 2) == Int64.min)
        #expect(Saturating.multiply(-3, Int64.max) == Int64.min)
        #expect(Saturating.add(Int64.max, 1) == Int64.max)
        #expect(Saturating.add(Int64.min, -1) == Int64.min)
        #expect(Saturating.add(Int.max - 1, 1) == Int.max)
        #expect(Duration.seconds(10).clamped(to: .zero ... .seconds(5)) == .seconds(5))
    }

    @Test func statusMessagesAreCutAtTheLimitAndStayValid() {
        let limit = 1024
        let atLimit = String(repeating: "a", count: limit)
        #expect(WireFormats.percentEncode(atLimit, limit: limit) == atLimit)
        let past = String(repeating: "a", count: limit + 1)
        let cut = WireFormats.percentEncode(past, limit: limit)
        #expect(cut.utf8.count == limit)
        #expect(cut.hasSuffix("..."))
        // Multi-byte characters and escapes are never split: the result decodes to whole characters.
        for message in [
            String(repeating: "é€😀", count: 2000), String(repeating: "%", count: 2000),
            "a" + String(repeating: "😀", count: 500),
        ] {
            for limit in [64, 65, 66, 67, 100, 1024] {
                let text = WireFormats.percentEncode(message, limit: limit)
                #expect(text.utf8.count <= limit)
                #expect(text.hasSuffix("..."))
                let decoded = WireFormats.percentDecode(String(text.dropLast(3)))
                #expect(message.hasPrefix(decoded))
                #expect(decoded.unicodeScalars.allSatisfy { $0 != "\u{FFFD}" })
            }
        }
    }

    @Test func clientInputIsQuotedAsAShortPrefix() {
        #expect(ClientInput.excerpt("abc") == "\"abc\"")
        let atLimit = String(repeating: "x", count: ClientInput.excerptLength)
        #expect(ClientInput.excerpt(atLimit) == "\"\(atLimit)\"")
        #expect(ClientInput.excerpt(atLimit + "y") == "\"\(atLimit)...\"")
        #expect(ClientInput.excerpt("a\u{0}b\nc") == "\"a\\u{0}b\\u{a}c\"")
    }

    @Test func aDeadlineOfYearsIsServedNotTrapped() async throws {
        let server = GRPCServer(configuration: ServerConfiguration(port: 0), services: [TestServiceImplementation()])
        try await server.start()
        let transport = HTTP2ClientTransport(host: "127.0.0.1", port: try #require(server.port))
        let client = Grpc_Testing_TestService.Client(RPCClient(transport: transport))
        // The client sends 99999999H, the largest grpc-timeout; the server clamps it.
        let response = try await client.unaryCall(
            Grpc_Testing_SimpleRequest(responseSize: 10), options: CallOptions(timeout: .seconds(Int64.max / 4)))
        #expect(response.payload?.body.count == 10)
        await transport.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }

    @Test func bufferedRequestBytesPerConnectionAtAndPastTheLimit() async throws {
        // A request held in buffers counts against the connection's budget: a message whose
        // framed size is exactly the budget is served, one byte more is refused.
        let limit = 200_000
        var configuration = ServerConfiguration(port: 0)
        configuration.maximumBufferedRequestBytes = limit
        let server = GRPCServer(configuration: configuration, services: [TestServiceImplementation()])
        try await server.start()
        let transport = HTTP2ClientTransport(host: "127.0.0.1", port: try #require(server.port))
        let client = Grpc_Testing_TestService.Client(RPCClient(transport: transport))

        func request(framedSize: Int) -> Grpc_Testing_SimpleRequest {
            var body = framedSize - 5 - 8
            while true {
                var request = Grpc_Testing_SimpleRequest(responseSize: 1)
                request.payload = Grpc_Testing_Payload(body: Data(repeating: 7, count: body))
                let size = 5 + request.serializedBytes().count
                if size == framedSize { return request }
                body += framedSize - size
            }
        }
        let atLimit = try await client.unaryCall(request(framedSize: limit))
        #expect(atLimit.payload?.body.count == 1)
        let error = await #expect(throws: RPCError.self) {
            _ = try await client.unaryCall(request(framedSize: limit + 1))
        }
        #expect(error?.code == .resourceExhausted)
        // The budget is given back: the connection serves the next call.
        let after = try await client.unaryCall(request(framedSize: limit))
        #expect(after.payload?.body.count == 1)
        await transport.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }
}

@Suite("Well-known types from outside values")
struct WellKnownTypeBoundsTests {
    @Test func timestampsOutsideProtobufsRangeAreClampedNotTrapped() {
        #expect(Google_Protobuf_Timestamp(date: Date(timeIntervalSince1970: 1e30)).seconds == 253_402_300_799)
        #expect(Google_Protobuf_Timestamp(date: Date(timeIntervalSince1970: -1e30)).seconds == -62_135_596_800)
        #expect(Google_Protobuf_Timestamp(date: Date(timeIntervalSince1970: .nan)).seconds == 0)
        #expect(
            Google_Protobuf_Timestamp(date: Date(timeIntervalSince1970: 253_402_300_799)).seconds == 253_402_300_799)
        let now = Google_Protobuf_Timestamp(date: Date(timeIntervalSince1970: 1_765_000_000.5))
        #expect(now.seconds == 1_765_000_000 && now.nanos == 500_000_000)
    }
}

@Suite("The interop service's own limits")
struct InteropPayloadLimitTests {
    @Test func aPayloadAtTheLimitIsServedAndPastItRefused() async throws {
        let server = GRPCServer(configuration: ServerConfiguration(port: 0), services: [TestServiceImplementation()])
        try await server.start()
        let transport = HTTP2ClientTransport(host: "127.0.0.1", port: try #require(server.port))
        let client = Grpc_Testing_TestService.Client(RPCClient(transport: transport))
        let limit = TestServiceImplementation.maximumPayloadSize
        let response = try await client.streamingOutputCall(
            Grpc_Testing_StreamingOutputCallRequest(responseParameters: [Grpc_Testing_ResponseParameters(size: limit)])
        ) { responses in
            var sizes: [Int] = []
            for try await response in responses { sizes.append(response.payload?.body.count ?? 0) }
            return sizes
        }
        #expect(response == [Int(limit)])
        let error = await #expect(throws: RPCError.self) {
            _ = try await client.unaryCall(Grpc_Testing_SimpleRequest(responseSize: Int32.max))
        }
        #expect(error?.code == .resourceExhausted)
        await transport.close()
        await server.shutdown(gracePeriod: .seconds(1))
    }
}
