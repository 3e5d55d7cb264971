import FoundationEssentials
public import RPCCore
public import RPCModels

/// Server reflection, answered from a `ReflectionIndex`, under both `grpc.reflection.v1` and
/// the older `grpc.reflection.v1alpha` that many tools still use. The two packages' messages
/// are the same on the wire, so one handler serves both paths.
public struct ReflectionService: Grpc_Reflection_V1_ServerReflection.ServiceProtocol {
    private let index: ReflectionIndex

    /// A reflection service over `index`.
    public init(index: ReflectionIndex) {
        self.index = index
    }

    /// The method under both packages' paths.
    public var serverMethods: [ServerMethod] {
        typealias Info = Grpc_Reflection_V1_ServerReflection.Method.ServerReflectionInfo
        let handler: @Sendable (any RequestSource, any ResponseSink, ServerContext) async throws -> Void = {
            source, sink, context in
            try await serverReflectionInfo(
                requests: Info.requestStream(source), response: Info.responseWriter(sink), context: context)
        }
        return [
            ServerMethod(descriptor: Info.descriptor, handler: handler),
            ServerMethod(
                descriptor: Grpc_Reflection_V1alpha_ServerReflection.Method.ServerReflectionInfo.descriptor,
                handler: handler),
        ]
    }

    /// Answers each request in order.
    public func serverReflectionInfo(
        requests: RequestStream<Grpc_Reflection_V1_ServerReflectionRequest>,
        response: ResponseWriter<Grpc_Reflection_V1_ServerReflectionResponse>, context: ServerContext
    ) async throws {
        for try await request in requests {
            let answer: ReflectionIndex.Answer =
                switch request.messageRequest {
                case .fileByFilename(let name)?: index.file(named: name)
                case .fileContainingSymbol(let symbol)?: index.file(containing: symbol)
                case .fileContainingExtension(let query)?:
                    index.fileContainingExtension(type: query.containingType, number: query.extensionNumber)
                case .allExtensionNumbersOfType(let type)?: index.extensionNumbers(of: type)
                case .listServices?: index.listServices()
                case nil: .error(code: 3, message: "the request asks nothing")
                }
            var reply = Grpc_Reflection_V1_ServerReflectionResponse(validHost: request.host, originalRequest: request)
            switch answer {
            case .files(let files):
                reply.messageResponse = .fileDescriptorResponse(
                    Grpc_Reflection_V1_FileDescriptorResponse(fileDescriptorProto: files.map { Data($0) }))
            case .services(let names):
                reply.messageResponse = .listServicesResponse(
                    Grpc_Reflection_V1_ListServiceResponse(
                        service: names.map { Grpc_Reflection_V1_ServiceResponse(name: $0) }))
            case .extensionNumbers(let type):
                reply.messageResponse = .allExtensionNumbersResponse(
                    Grpc_Reflection_V1_ExtensionNumberResponse(baseTypeName: type))
            case .error(let code, let message):
                reply.messageResponse = .errorResponse(
                    Grpc_Reflection_V1_ErrorResponse(errorCode: code, errorMessage: message))
            }
            try await response.write(reply)
        }
    }
}
