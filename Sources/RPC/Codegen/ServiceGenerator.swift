/// Writes a service's namespace: its name and, per method, the wire path, the message types
/// and the streaming kind. Typed clients and server protocols build on these.
struct ServiceGenerator {
    let service: ServiceType
    let package: String
    let context: GeneratorContext

    func write(_ w: inout CodeWriter) {
        w.docComment(service.comment)
        w.block("public enum \(Naming.swiftPrefix(package: package))\(service.name)") { w in
            w.line("/// The service's fully qualified name.")
            w.line("public static let serviceName = \"\(service.fullName)\"")
            w.line()
            w.line("/// The service's methods.")
            w.block("public enum Method") { w in
                for method in service.methods {
                    w.docComment(method.comment)
                    w.block("public enum \(method.name)") { w in
                        w.line("public typealias Input = \(context.swiftName(method.inputType))")
                        w.line("public typealias Output = \(context.swiftName(method.outputType))")
                        w.line("public static let name = \"\(method.name)\"")
                        w.line("public static let path = \"/\(service.fullName)/\(method.name)\"")
                        w.line("public static let clientStreaming = \(method.clientStreaming)")
                        w.line("public static let serverStreaming = \(method.serverStreaming)")
                    }
                }
            }
        }
    }
}
