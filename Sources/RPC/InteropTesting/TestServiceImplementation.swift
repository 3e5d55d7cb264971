import FoundationEssentials
public import RPCCore
public import RPCModels

/// `grpc.testing.TestService` as the gRPC interop test descriptions define the server side:
/// payloads of the requested sizes, echoed metadata, requested statuses, paced streams.
public struct TestServiceImplementation: Grpc_Testing_TestService.ServiceProtocol {
    /// The initial-metadata key the client asks us to echo in response headers.
    static let echoInitialKey = "x-grpc-test-echo-initial"
    /// The binary key the client asks us to echo in trailers.
    static let echoTrailingKey = "x-grpc-test-echo-trailing-bin"

    /// A service.
    public init() {}

    private func echoMetadata(_ context: ServerContext) {
        for value in context.metadata[stringValues: Self.echoInitialKey] {
            context.response.headers.addString(value, forKey: Self.echoInitialKey)
        }
        for value in context.metadata[binaryValues: Self.echoTrailingKey] {
            context.response.trailers.addBinary(value, forKey: Self.echoTrailingKey)
        }
    }

    /// The largest payload a request may ask for (1 MiB: the interop cases ask for at most
    /// 314,159 bytes), so a request for 2 GiB is refused instead of allocated.
    public static let maximumPayloadSize: Int32 = 1 << 20

    private func payload(size: Int32) throws -> Grpc_Testing_Payload {
        guard size >= 0 else { throw RPCError(code: .invalidArgument, message: "negative payload size \(size)") }
        guard size <= Self.maximumPayloadSize else {
            throw RPCError(
                code: .resourceExhausted,
                message: "a payload of \(size) bytes exceeds the limit of \(Self.maximumPayloadSize)")
        }
        return Grpc_Testing_Payload(type: .compressable, body: Data(count: Int(size)))
    }

    private func requestedStatus(_ status: Grpc_Testing_EchoStatus?) throws {
        guard let status, status.code != 0 else { return }
        throw RPCError(code: Status.Code(rawValue: Int(status.code)), message: status.message)
    }

    /// One empty request, one empty response.
    public func emptyCall(request: Grpc_Testing_Empty, context: ServerContext) async throws -> Grpc_Testing_Empty {
        echoMetadata(context)
        return Grpc_Testing_Empty()
    }

    /// A payload of the requested size, or the requested status.
    public func unaryCall(request: Grpc_Testing_SimpleRequest, context: ServerContext) async throws
        -> Grpc_Testing_SimpleResponse
    {
        echoMetadata(context)
        try requestedStatus(request.responseStatus)
        return Grpc_Testing_SimpleResponse(payload: try payload(size: request.responseSize))
    }

    /// As `unaryCall`.
    public func cacheableUnaryCall(request: Grpc_Testing_SimpleRequest, context: ServerContext) async throws
        -> Grpc_Testing_SimpleResponse
    {
        try await unaryCall(request: request, context: context)
    }

    /// One response per parameter, each after its interval.
    public func streamingOutputCall(
        request: Grpc_Testing_StreamingOutputCallRequest,
        response: ResponseWriter<Grpc_Testing_StreamingOutputCallResponse>, context: ServerContext
    ) async throws {
        echoMetadata(context)
        try await respond(to: request, with: response)
        try requestedStatus(request.responseStatus)
    }

    /// The total size of the payloads received.
    public func streamingInputCall(
        requests: RequestStream<Grpc_Testing_StreamingInputCallRequest>, context: ServerContext
    ) async throws -> Grpc_Testing_StreamingInputCallResponse {
        echoMetadata(context)
        var total = 0
        for try await request in requests { total += request.payload?.body.count ?? 0 }
        return Grpc_Testing_StreamingInputCallResponse(aggregatedPayloadSize: Int32(total))
    }

    /// Each request answered as it arrives.
    public func fullDuplexCall(
        requests: RequestStream<Grpc_Testing_StreamingOutputCallRequest>,
        response: ResponseWriter<Grpc_Testing_StreamingOutputCallResponse>, context: ServerContext
    ) async throws {
        echoMetadata(context)
        for try await request in requests {
            try requestedStatus(request.responseStatus)
            try await respond(to: request, with: response)
        }
    }

    /// All requests first, then all responses.
    public func halfDuplexCall(
        requests: RequestStream<Grpc_Testing_StreamingOutputCallRequest>,
        response: ResponseWriter<Grpc_Testing_StreamingOutputCallResponse>, context: ServerContext
    ) async throws {
        echoMetadata(context)
        var all: [Grpc_Testing_StreamingOutputCallRequest] = []
        for try await request in requests { all.append(request) }
        for request in all {
            try requestedStatus(request.responseStatus)
            try await respond(to: request, with: response)
        }
    }

    /// Not implemented, on purpose: the interop case `unimplemented_method` expects UNIMPLEMENTED.
    public func unimplementedCall(request: Grpc_Testing_Empty, context: ServerContext) async throws
        -> Grpc_Testing_Empty
    {
        throw RPCError(code: .unimplemented, message: "grpc.testing.TestService/UnimplementedCall is not implemented")
    }

    private func respond(
        to request: Grpc_Testing_StreamingOutputCallRequest,
        with response: ResponseWriter<Grpc_Testing_StreamingOutputCallResponse>
    ) async throws {
        for parameters in request.responseParameters {
            if parameters.intervalUs > 0 { try await Task.sleep(for: .microseconds(Int64(parameters.intervalUs))) }
            try await response.write(
                Grpc_Testing_StreamingOutputCallResponse(payload: try payload(size: parameters.size)))
        }
    }
}
