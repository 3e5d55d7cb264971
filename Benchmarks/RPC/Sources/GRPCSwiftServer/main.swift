// grpc-swift-server: grpc.testing.TestService on grpc-swift-2 and its NIO HTTP/2 transport
// (plaintext, 127.0.0.1), the rival of the root package's interop-server in ../rpc-run.
// Usage: grpc-swift-server --port N
//
// It serves UnaryCall, CacheableUnaryCall, StreamingOutputCall and EmptyCall as interop-server
// does (zero-filled payloads of the requested sizes, the requested status); the other methods
// answer UNIMPLEMENTED. The transport runs on NIO's singleton event loop group, one thread per
// core as NIO counts them (a taskset pin does not change the count).
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix

struct TestService: Grpc_Testing_TestService.SimpleServiceProtocol {
    private func payload(size: Int32) throws -> Grpc_Testing_Payload {
        guard size >= 0 else { throw RPCError(code: .invalidArgument, message: "negative payload size \(size)") }
        var payload = Grpc_Testing_Payload()
        payload.type = .compressable
        payload.body = Data(count: Int(size))
        return payload
    }

    private func requestedStatus(_ status: Grpc_Testing_EchoStatus) throws {
        guard status.code != 0 else { return }
        let code = RPCError.Code(Status.Code(rawValue: Int(status.code)) ?? .unknown) ?? .unknown
        throw RPCError(code: code, message: status.message)
    }

    func emptyCall(request: Grpc_Testing_Empty, context: ServerContext) async throws -> Grpc_Testing_Empty {
        Grpc_Testing_Empty()
    }

    func unaryCall(request: Grpc_Testing_SimpleRequest, context: ServerContext) async throws
        -> Grpc_Testing_SimpleResponse
    {
        try requestedStatus(request.responseStatus)
        var response = Grpc_Testing_SimpleResponse()
        response.payload = try payload(size: request.responseSize)
        return response
    }

    func cacheableUnaryCall(request: Grpc_Testing_SimpleRequest, context: ServerContext) async throws
        -> Grpc_Testing_SimpleResponse
    {
        try await unaryCall(request: request, context: context)
    }

    func streamingOutputCall(
        request: Grpc_Testing_StreamingOutputCallRequest,
        response: RPCWriter<Grpc_Testing_StreamingOutputCallResponse>,
        context: ServerContext
    ) async throws {
        for parameters in request.responseParameters {
            if parameters.intervalUs > 0 { try await Task.sleep(for: .microseconds(Int64(parameters.intervalUs))) }
            var message = Grpc_Testing_StreamingOutputCallResponse()
            message.payload = try payload(size: parameters.size)
            try await response.write(message)
        }
        try requestedStatus(request.responseStatus)
    }

    func streamingInputCall(
        request: RPCAsyncSequence<Grpc_Testing_StreamingInputCallRequest, any Error>,
        context: ServerContext
    ) async throws -> Grpc_Testing_StreamingInputCallResponse {
        throw RPCError(code: .unimplemented, message: "not part of the benchmark")
    }

    func fullDuplexCall(
        request: RPCAsyncSequence<Grpc_Testing_StreamingOutputCallRequest, any Error>,
        response: RPCWriter<Grpc_Testing_StreamingOutputCallResponse>,
        context: ServerContext
    ) async throws {
        throw RPCError(code: .unimplemented, message: "not part of the benchmark")
    }

    func halfDuplexCall(
        request: RPCAsyncSequence<Grpc_Testing_StreamingOutputCallRequest, any Error>,
        response: RPCWriter<Grpc_Testing_StreamingOutputCallResponse>,
        context: ServerContext
    ) async throws {
        throw RPCError(code: .unimplemented, message: "not part of the benchmark")
    }

    func unimplementedCall(request: Grpc_Testing_Empty, context: ServerContext) async throws -> Grpc_Testing_Empty {
        throw RPCError(code: .unimplemented, message: "unimplemented")
    }
}

var port = 50052
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    if argument == "--port", let value = arguments.popFirst().flatMap(Int.init) {
        port = value
    } else if argument.hasPrefix("--port="), let value = Int(argument.dropFirst("--port=".count)) {
        port = value
    } else {
        print("usage: grpc-swift-server --port N")
        exit(2)
    }
}

let server = GRPCServer(
    transport: .http2NIOPosix(address: .ipv4(host: "127.0.0.1", port: port), transportSecurity: .plaintext),
    services: [TestService()]
)
try await withThrowingDiscardingTaskGroup { group in
    group.addTask { try await server.serve() }
    if let address = try await server.listeningAddress {
        print("grpc-swift-server: listening on \(address)")
    }
}
