import FoundationEssentials
public import RPCCore
import RPCModels

/// The gRPC interop test cases, client side, as the interop test descriptions define them;
/// run by our Swift client against any implementation's interop server.
public enum InteropClientCases {
    /// A named case.
    public typealias Case = (name: String, run: @Sendable (RPCClient) async throws -> Void)

    /// Why a case failed.
    public struct Failure: Error, CustomStringConvertible {
        /// What was wrong.
        public let description: String
    }

    static let requestSizes: [Int32] = [27182, 8, 1828, 45904]
    static let responseSizes: [Int32] = [31415, 9, 2653, 58979]

    static func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw Failure(description: message()) }
    }

    static func payload(_ size: Int32) -> Grpc_Testing_Payload {
        Grpc_Testing_Payload(body: Data(count: Int(size)))
    }

    static func expectStatus(_ code: Status.Code, message: String? = nil, _ body: () async throws -> Void) async throws
    {
        do {
            try await body()
        } catch let error as RPCError {
            try expect(error.code == code, "expected \(code), got \(error)")
            if let message {
                try expect(
                    error.message == message,
                    "expected message \(message.debugDescription), got \(error.message.debugDescription)")
            }
            return
        }
        throw Failure(description: "expected \(code), but the call succeeded")
    }

    /// Every case, in the order of the interop descriptions.
    public static let all: [Case] = [
        ("empty_unary", emptyUnary), ("large_unary", largeUnary), ("client_streaming", clientStreaming),
        ("server_streaming", serverStreaming), ("ping_pong", pingPong), ("empty_stream", emptyStream),
        ("custom_metadata", customMetadata), ("status_code_and_message", statusCodeAndMessage),
        ("special_status_message", specialStatusMessage), ("unimplemented_method", unimplementedMethod),
        ("unimplemented_service", unimplementedService), ("cancel_after_begin", cancelAfterBegin),
        ("cancel_after_first_response", cancelAfterFirstResponse),
        ("timeout_on_sleeping_server", timeoutOnSleepingServer),
    ]

    @Sendable static func emptyUnary(_ rpc: RPCClient) async throws {
        let response = try await Grpc_Testing_TestService.Client(rpc).emptyCall(Grpc_Testing_Empty())
        try expect(response == Grpc_Testing_Empty(), "EmptyCall returned \(response)")
    }

    @Sendable static func largeUnary(_ rpc: RPCClient) async throws {
        let response = try await Grpc_Testing_TestService.Client(rpc).unaryCall(
            Grpc_Testing_SimpleRequest(responseSize: 314_159, payload: payload(271_828)))
        try expect(
            response.payload?.body == Data(count: 314_159), "payload of \(response.payload?.body.count ?? -1) bytes")
    }

    @Sendable static func clientStreaming(_ rpc: RPCClient) async throws {
        let response = try await Grpc_Testing_TestService.Client(rpc).streamingInputCall { writer in
            for size in requestSizes {
                try await writer.write(Grpc_Testing_StreamingInputCallRequest(payload: payload(size)))
            }
        }
        try expect(response.aggregatedPayloadSize == 74922, "aggregated \(response.aggregatedPayloadSize)")
    }

    @Sendable static func serverStreaming(_ rpc: RPCClient) async throws {
        let request = Grpc_Testing_StreamingOutputCallRequest(
            responseParameters: responseSizes.map { Grpc_Testing_ResponseParameters(size: $0) })
        let sizes = try await Grpc_Testing_TestService.Client(rpc).streamingOutputCall(request) { responses in
            var sizes: [Int32] = []
            for try await response in responses { sizes.append(Int32(response.payload?.body.count ?? -1)) }
            return sizes
        }
        try expect(sizes == responseSizes, "sizes \(sizes)")
    }

    @Sendable static func pingPong(_ rpc: RPCClient) async throws {
        let (turns, turn) = AsyncStream<Void>.makeStream()
        let sizes = try await Grpc_Testing_TestService.Client(rpc).fullDuplexCall(
            requests: { writer in
                var iterator = turns.makeAsyncIterator()
                for (request, response) in zip(requestSizes, responseSizes) {
                    try await writer.write(
                        Grpc_Testing_StreamingOutputCallRequest(
                            responseParameters: [Grpc_Testing_ResponseParameters(size: response)],
                            payload: payload(request)))
                    _ = await iterator.next()
                }
            },
            onResponse: { responses in
                var sizes: [Int32] = []
                for try await response in responses {
                    sizes.append(Int32(response.payload?.body.count ?? -1))
                    turn.yield()
                }
                return sizes
            })
        try expect(sizes == responseSizes, "sizes \(sizes)")
    }

    @Sendable static func emptyStream(_ rpc: RPCClient) async throws {
        let count = try await Grpc_Testing_TestService.Client(rpc).fullDuplexCall(
            requests: { _ in },
            onResponse: { responses in
                var count = 0
                for try await _ in responses { count += 1 }
                return count
            })
        try expect(count == 0, "\(count) responses to an empty stream")
    }

    static let initialKey = "x-grpc-test-echo-initial"
    static let initialValue = "test_initial_metadata_value"
    static let trailingKey = "x-grpc-test-echo-trailing-bin"
    static let trailingValue: [UInt8] = [0xAB, 0xAB, 0xAB]

    @Sendable static func customMetadata(_ rpc: RPCClient) async throws {
        var metadata = Metadata()
        metadata.addString(initialValue, forKey: initialKey)
        metadata.addBinary(trailingValue, forKey: trailingKey)
        typealias Unary = Grpc_Testing_TestService.Method.UnaryCall
        let response = try await rpc.unary(
            Unary.descriptor, request: Grpc_Testing_SimpleRequest(responseSize: 314_159, payload: payload(271_828)),
            metadata: metadata, encode: { $0.serializedBytes() }, decode: Unary.decodeResponse)
        try expect(response.headers[stringValues: initialKey] == [initialValue], "unary headers \(response.headers)")
        try expect(
            response.trailers[binaryValues: trailingKey] == [trailingValue], "unary trailers \(response.trailers)")

        let (headers, trailers) = try await Grpc_Testing_TestService.Client(rpc).fullDuplexCall(
            metadata: metadata,
            requests: { writer in
                try await writer.write(
                    Grpc_Testing_StreamingOutputCallRequest(
                        responseParameters: [Grpc_Testing_ResponseParameters(size: 314_159)], payload: payload(271_828))
                )
            },
            onResponse: { responses in
                for try await _ in responses {}
                return (responses.headers ?? [:], responses.trailers ?? [:])
            })
        try expect(headers[stringValues: initialKey] == [initialValue], "duplex headers \(headers)")
        try expect(trailers[binaryValues: trailingKey] == [trailingValue], "duplex trailers \(trailers)")
    }

    static func statusCase(_ rpc: RPCClient, message: String, duplex: Bool) async throws {
        let status = Grpc_Testing_EchoStatus(code: 2, message: message)
        try await expectStatus(.unknown, message: message) {
            _ = try await Grpc_Testing_TestService.Client(rpc).unaryCall(
                Grpc_Testing_SimpleRequest(responseStatus: status))
        }
        guard duplex else { return }
        try await expectStatus(.unknown, message: message) {
            try await Grpc_Testing_TestService.Client(rpc).fullDuplexCall(
                requests: { writer in
                    try await writer.write(Grpc_Testing_StreamingOutputCallRequest(responseStatus: status))
                },
                onResponse: { responses in for try await _ in responses {} })
        }
    }

    @Sendable static func statusCodeAndMessage(_ rpc: RPCClient) async throws {
        try await statusCase(rpc, message: "test status message", duplex: true)
    }

    @Sendable static func specialStatusMessage(_ rpc: RPCClient) async throws {
        try await statusCase(
            rpc, message: "\t\ntest with whitespace\r\nand Unicode BMP \u{263A} and non-BMP \u{1F608}\t\n",
            duplex: false)
    }

    @Sendable static func unimplementedMethod(_ rpc: RPCClient) async throws {
        try await expectStatus(.unimplemented) {
            _ = try await Grpc_Testing_TestService.Client(rpc).unimplementedCall(Grpc_Testing_Empty())
        }
    }

    @Sendable static func unimplementedService(_ rpc: RPCClient) async throws {
        try await expectStatus(.unimplemented) {
            _ = try await Grpc_Testing_UnimplementedService.Client(rpc).unimplementedCall(Grpc_Testing_Empty())
        }
    }

    @Sendable static func cancelAfterBegin(_ rpc: RPCClient) async throws {
        let call = Task {
            try await Grpc_Testing_TestService.Client(rpc).streamingInputCall { _ in
                try await Task.sleep(for: .seconds(30))
            }
        }
        try await Task.sleep(for: .milliseconds(20))
        call.cancel()
        try await expectStatus(.cancelled) { _ = try await call.value }
    }

    @Sendable static func cancelAfterFirstResponse(_ rpc: RPCClient) async throws {
        let (firstResponse, received) = AsyncStream<Void>.makeStream()
        let call = Task {
            try await Grpc_Testing_TestService.Client(rpc).fullDuplexCall(
                requests: { writer in
                    try await writer.write(
                        Grpc_Testing_StreamingOutputCallRequest(
                            responseParameters: [Grpc_Testing_ResponseParameters(size: 31415)], payload: payload(27182))
                    )
                    try await Task.sleep(for: .seconds(30))
                },
                onResponse: { responses in
                    for try await response in responses {
                        try expect(response.payload?.body.count == 31415, "first response size")
                        received.yield()
                    }
                })
        }
        var iterator = firstResponse.makeAsyncIterator()
        _ = await iterator.next()
        call.cancel()
        try await expectStatus(.cancelled) { try await call.value }
    }

    @Sendable static func timeoutOnSleepingServer(_ rpc: RPCClient) async throws {
        try await expectStatus(.deadlineExceeded) {
            try await Grpc_Testing_TestService.Client(rpc).fullDuplexCall(
                options: CallOptions(timeout: .milliseconds(1)),
                requests: { writer in
                    try await writer.write(Grpc_Testing_StreamingOutputCallRequest(payload: payload(27182)))
                    try await Task.sleep(for: .seconds(30))
                },
                onResponse: { responses in for try await _ in responses {} })
        }
    }
}
