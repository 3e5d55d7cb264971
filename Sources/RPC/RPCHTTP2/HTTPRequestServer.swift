public import NIOCore
import RPCCore

/// Plain HTTP over HTTP/2 on the same nghttp2 connection layer as `GRPCServer`: for a server
/// that answers browsers (the edge) rather than gRPC clients. It does not listen itself: the
/// owner's listener (after TLS and ALPN chose `h2`) hands each connection to `configure`.
public final class HTTPRequestServer: Sendable {
    private let configuration: ServerConfiguration
    private let responder: any HTTPStreamResponder
    private let requestTimeout: Duration?
    private let registry = ConnectionRegistry()

    /// A server answering with `responder`. Of `configuration` it uses the connection limits
    /// (streams, header list, buffered request bytes, idle time, keepalive); `requestTimeout`
    /// bounds how long a request's body may take to arrive.
    public init(configuration: ServerConfiguration, requestTimeout: Duration?, responder: any HTTPStreamResponder) {
        self.configuration = configuration
        self.requestTimeout = requestTimeout
        self.responder = responder
    }

    /// Serves HTTP/2 on `channel`, whose pipeline carries bytes (after any TLS handler). Call it
    /// on the channel's event loop.
    public func configure(_ channel: any Channel) throws {
        try channel.pipeline.syncOperations.addHandler(
            ServerConnectionHandler(
                router: ServerRouter(), interceptors: [], configuration: configuration, registry: registry,
                responder: responder, requestTimeout: requestTimeout))
    }

    /// Connections open now.
    public var connectionCount: Int { registry.count }

    /// GOAWAY on every connection: requests in flight finish, new ones are refused, and each
    /// connection closes once its last request is done.
    public func beginGracefulShutdown() {
        registry.forEach { $0.beginGracefulShutdown() }
    }

    /// Closes every connection now.
    public func closeAll() {
        registry.forEach { $0.closeNow() }
    }
}
