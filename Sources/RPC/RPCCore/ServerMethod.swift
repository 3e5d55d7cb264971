/// One method a server can run: its descriptor and a handler working on serialized messages.
///
/// Generated code makes these from a service implementation; the handler decodes requests,
/// calls the typed method and encodes responses.
public struct ServerMethod: Sendable {
    /// The method.
    public let descriptor: MethodDescriptor
    /// Runs one call. Throwing an `RPCError` chooses the status; returning means OK.
    public let handler: @Sendable (any RequestSource, any ResponseSink, ServerContext) async throws -> Void

    /// A method and its handler.
    public init(
        descriptor: MethodDescriptor,
        handler: @escaping @Sendable (any RequestSource, any ResponseSink, ServerContext) async throws -> Void
    ) {
        self.descriptor = descriptor
        self.handler = handler
    }
}

/// A service implementation that can list its methods for a server to route to.
public protocol RegistrableService: Sendable {
    /// Every method, with its handler bound to this implementation.
    var serverMethods: [ServerMethod] { get }
}

/// Finds the method for a `:path`. Built once before serving; read-only afterwards.
public struct ServerRouter: Sendable {
    private var methods: [String: ServerMethod] = [:]
    private var services: Set<String> = []

    /// An empty router.
    public init() {}

    /// Adds every method of a service; a later registration of the same path replaces it.
    public mutating func register(_ service: some RegistrableService) {
        for method in service.serverMethods { register(method) }
    }

    /// Adds one method.
    public mutating func register(_ method: ServerMethod) {
        methods[method.descriptor.path] = method
        services.insert(method.descriptor.service)
    }

    /// The method for a path.
    public func method(forPath path: String) -> ServerMethod? {
        methods[path]
    }

    /// The fully qualified names of the registered services.
    public var serviceNames: [String] { services.sorted() }
}
