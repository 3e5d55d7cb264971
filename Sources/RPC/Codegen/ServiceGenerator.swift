/// Writes a service's namespace (name and method descriptors), the protocol a server
/// implements, and a typed client.
struct ServiceGenerator {
    let service: ServiceType
    let package: String
    let context: GeneratorContext

    private var namespace: String { Naming.swiftPrefix(package: package) + service.name }

    func write(_ w: inout CodeWriter) {
        writeNamespace(&w)
        w.line()
        writeServiceProtocol(&w)
        w.line()
        writeRegistration(&w)
        w.line()
        writeClient(&w)
    }

    private func kind(_ method: ServiceType.Method) -> String {
        switch (method.clientStreaming, method.serverStreaming) {
        case (false, false): ".unary"
        case (false, true): ".serverStreaming"
        case (true, false): ".clientStreaming"
        case (true, true): ".bidirectionalStreaming"
        }
    }

    private func functionName(_ method: ServiceType.Method) -> String {
        Naming.escaped(method.name.prefix(1).lowercased() + method.name.dropFirst())
    }

    private func writeNamespace(_ w: inout CodeWriter) {
        w.docComment(service.comment)
        w.block("public enum \(namespace)") { w in
            w.line("/// The service's fully qualified name.")
            w.line("public static let serviceName = \"\(service.fullName)\"")
            w.line()
            w.line("/// The service's methods.")
            w.block("public enum Method") { w in
                for method in service.methods {
                    w.docComment(method.comment)
                    w.block("public enum \(method.name): ProtoMethod") { w in
                        w.line("public typealias Input = \(context.swiftName(method.inputType))")
                        w.line("public typealias Output = \(context.swiftName(method.outputType))")
                        w.line("public static let descriptor = MethodDescriptor(")
                        w.line(
                            "    service: \"\(service.fullName)\", method: \"\(method.name)\", kind: \(kind(method)))")
                    }
                }
                w.line()
                w.line("/// Every method of the service.")
                w.line(
                    "public static let all: [MethodDescriptor] = ["
                        + service.methods.map { "\($0.name).descriptor" }.joined(separator: ", ") + "]")
            }
        }
    }

    private func writeServiceProtocol(_ w: inout CodeWriter) {
        w.line("/// What a server of \(service.fullName) implements; register it with the server.")
        w.block("extension \(namespace)") { w in
            writeServiceProtocolBody(&w)
        }
    }

    private func writeServiceProtocolBody(_ w: inout CodeWriter) {
        w.block("public protocol ServiceProtocol: RegistrableService") { w in
            for method in service.methods {
                let input = "\(namespace).Method.\(method.name).Input"
                let output = "\(namespace).Method.\(method.name).Output"
                w.docComment(method.comment)
                switch (method.clientStreaming, method.serverStreaming) {
                case (false, false):
                    w.line(
                        "func \(functionName(method))(request: \(input), context: ServerContext) async throws -> \(output)"
                    )
                case (false, true):
                    w.line("func \(functionName(method))(")
                    w.line("    request: \(input), response: ResponseWriter<\(output)>, context: ServerContext")
                    w.line(") async throws")
                case (true, false):
                    w.line("func \(functionName(method))(")
                    w.line("    requests: RequestStream<\(input)>, context: ServerContext")
                    w.line(") async throws -> \(output)")
                case (true, true):
                    w.line("func \(functionName(method))(")
                    w.line("    requests: RequestStream<\(input)>, response: ResponseWriter<\(output)>,")
                    w.line("    context: ServerContext")
                    w.line(") async throws")
                }
            }
        }
    }

    private func writeRegistration(_ w: inout CodeWriter) {
        w.block("extension \(namespace).ServiceProtocol") { w in
            w.line("/// The service's methods bound to this implementation, for a server's router.")
            w.block("public var serverMethods: [ServerMethod]") { w in
                w.line("[")
                w.indent { w in
                    for method in service.methods {
                        let m = "\(namespace).Method.\(method.name)"
                        let call = functionName(method)
                        w.line("ServerMethod(descriptor: \(m).descriptor) { source, sink, context in")
                        w.indent { w in
                            switch (method.clientStreaming, method.serverStreaming) {
                            case (false, false):
                                w.line("let request = try \(m).decodeRequest(try await source.singleMessage())")
                                w.line("let response = try await self.\(call)(request: request, context: context)")
                                w.line("try await sink.writeMessage(response.serializedBytes())")
                            case (false, true):
                                w.line("let request = try \(m).decodeRequest(try await source.singleMessage())")
                                w.line("try await self.\(call)(")
                                w.line("    request: request, response: \(m).responseWriter(sink), context: context)")
                            case (true, false):
                                w.line("let response = try await self.\(call)(")
                                w.line("    requests: \(m).requestStream(source), context: context)")
                                w.line("try await sink.writeMessage(response.serializedBytes())")
                            case (true, true):
                                w.line("try await self.\(call)(")
                                w.line("    requests: \(m).requestStream(source), response: \(m).responseWriter(sink),")
                                w.line("    context: context)")
                            }
                        }
                        w.line("},")
                    }
                }
                w.line("]")
            }
        }
    }

    private func writeClient(_ w: inout CodeWriter) {
        w.block("extension \(namespace)") { w in
            writeClientBody(&w)
        }
    }

    private func writeClientBody(_ w: inout CodeWriter) {
        w.line("/// A typed client of \(service.fullName).")
        w.block("public struct Client: Sendable") { w in
            w.line("/// The client calls go through.")
            w.line("public let rpc: RPCClient")
            w.line()
            w.line("/// A typed client over an `RPCClient`.")
            w.line("public init(_ rpc: RPCClient) { self.rpc = rpc }")
            for method in service.methods {
                let m = "\(namespace).Method.\(method.name)"
                let common = "metadata: Metadata = [:], options: CallOptions = .defaults"
                let coding = "encode: { $0.serializedBytes() }, decode: \(m).decodeResponse"
                w.line()
                w.docComment(method.comment)
                switch (method.clientStreaming, method.serverStreaming) {
                case (false, false):
                    w.line("public func \(functionName(method))(")
                    w.line("    _ request: \(m).Input, \(common)")
                    w.block(") async throws -> \(m).Output") { w in
                        w.line("try await rpc.unary(")
                        w.line("    \(m).descriptor, request: request, metadata: metadata, options: options,")
                        w.line("    \(coding)")
                        w.line(").message")
                    }
                case (false, true):
                    w.line("public func \(functionName(method))<Result: Sendable>(")
                    w.line("    _ request: \(m).Input, \(common),")
                    w.line(
                        "    onResponse: @escaping @Sendable (ClientResponseStream<\(m).Output>) async throws -> Result"
                    )
                    w.block(") async throws -> Result") { w in
                        w.line("try await rpc.serverStreaming(")
                        w.line("    \(m).descriptor, request: request, metadata: metadata, options: options,")
                        w.line("    \(coding), onResponse: onResponse)")
                    }
                case (true, false):
                    w.line("public func \(functionName(method))(")
                    w.line("    \(common),")
                    w.line("    requests: @escaping @Sendable (RequestWriter<\(m).Input>) async throws -> Void")
                    w.block(") async throws -> \(m).Output") { w in
                        w.line("try await rpc.clientStreaming(")
                        w.line("    \(m).descriptor, metadata: metadata, options: options,")
                        w.line("    \(coding), requests: requests")
                        w.line(").message")
                    }
                case (true, true):
                    w.line("public func \(functionName(method))<Result: Sendable>(")
                    w.line("    \(common),")
                    w.line("    requests: @escaping @Sendable (RequestWriter<\(m).Input>) async throws -> Void,")
                    w.line(
                        "    onResponse: @escaping @Sendable (ClientResponseStream<\(m).Output>) async throws -> Result"
                    )
                    w.block(") async throws -> Result") { w in
                        w.line("try await rpc.bidirectionalStreaming(")
                        w.line("    \(m).descriptor, metadata: metadata, options: options,")
                        w.line("    \(coding), requests: requests, onResponse: onResponse)")
                    }
                }
            }
        }
    }
}
