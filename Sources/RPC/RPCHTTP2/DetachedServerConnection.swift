public import NIOCore
public import RPCCore

extension GRPCServer {
    /// The channel handler a server puts on each accepted connection, for a channel made
    /// elsewhere: the fuzzer and tests drive it on NIO's testing channels, with no socket.
    ///
    /// For fuzzing and tests only: a connection made this way belongs to no server, so no
    /// `shutdown()` reaches it; close its channel to end it.
    public static func makeDetachedConnectionHandler(
        services: [any RegistrableService], interceptors: [any ServerInterceptor] = [],
        configuration: ServerConfiguration
    ) -> any ChannelHandler & Sendable {
        var router = ServerRouter()
        for service in services { router.register(service) }
        return ServerConnectionHandler(
            router: router, interceptors: interceptors, configuration: configuration, registry: ConnectionRegistry())
    }
}
