import Foundation
public import Logging
public import NIOPosix
import NIOSSL
import ProtoJSON
import RPCCore
import RPCModels
import Runtime
public import RuntimeConfig
import RuntimeObservability
import RuntimeSecurity
import ServiceLifecycle
import Synchronization

/// Runs the edge: configuration, the HTTP port, the admin port (metrics, health, readiness),
/// clients to the services, and a graceful drain on SIGTERM or SIGINT.
public enum EdgeHost {
    /// The edge executable's entry point: exits 2 with every bad key named on a bad
    /// configuration, 0 after a graceful shutdown.
    public static func main() async -> Never {
        let signals = SignalLatch()
        signals.onSignal { exit(1) }
        do {
            var reader = ConfigReader()
            let configuration = EdgeConfiguration.load(reader: &reader)
            try reader.validate()
            let eventLoops = EventLoopTakeover.install(threads: configuration.eventLoopThreads)
            let edge = try await start(configuration: configuration, eventLoops: eventLoops)
            signals.onSignal { Task { await edge.shutdown() } }
            try await edge.run()
            exit(0)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("edge: \(error)\n".utf8))
            exit(2)
        } catch {
            FileHandle.standardError.write(Data("edge: \(error)\n".utf8))
            exit(1)
        }
    }

    /// Starts listening (HTTP and admin ports); `run` then serves until `shutdown`. Tests run
    /// the edge in their own process with this. `eventLoops` belongs to the caller.
    public static func start(
        configuration: EdgeConfiguration, eventLoops: MultiThreadedEventLoopGroup
    ) async throws -> RunningEdge {
        let level = Logger.Level(rawValue: configuration.logLevel.rawValue) ?? .info
        _ = Observability.bootstrapLogging(service: "edge", level: level)
        let registry = Observability.bootstrapMetrics()
        var logger = Logger(label: "agentplane.edge")
        logger.logLevel = level

        let secret = configuration.jwtSecret.revealBytes()
        let schema = try ProtoSchema(files: AgentplaneProtoFiles.all)
        let routes = try RouteTable(routes: HTTPRoute.all)
        let peers = PeerClients(
            addresses: configuration.peers,
            interceptors: [TracePropagationInterceptor(), ClientMetricsInterceptor()], eventLoops: eventLoops)
        let issuer = try TokenIssuer(secret: secret)
        let session = BrowserSession(
            secret: secret, identity: EdgeIdentity(issuer: issuer), verifier: try TokenVerifier(secret: secret),
            apiKeys: APIKeyExchange(issuer: issuer, peers: peers))
        let gateway = JSONGateway(
            routes: routes, schema: schema, peers: peers, limits: configuration.limits, session: session, logger: logger
        )
        let grpcWeb = GRPCWebGateway(
            routes: HTTPRoute.all, peers: peers, limits: configuration.limits, session: session)
        let service = EdgeService(
            gateway: gateway, grpcWeb: grpcWeb, webRoot: configuration.webRoot, corsOrigins: configuration.corsOrigins,
            logger: logger)
        var tls: NIOSSLContext?
        if let certificate = configuration.tlsCertificateFile, let key = configuration.tlsKeyFile {
            do {
                tls = try EdgeHTTPServer.tlsContext(certificateFile: certificate, keyFile: key)
            } catch {
                throw TLSSetupError(description: "TLS_CERT_FILE / TLS_KEY_FILE could not be loaded: \(error)")
            }
        }
        let server = EdgeHTTPServer(
            host: configuration.host, port: configuration.port, limits: configuration.limits,
            trustedProxies: configuration.trustedProxies, tls: tls, eventLoops: eventLoops,
            handler: service, logger: logger)
        let draining = DrainFlag()
        let admin = AdminServer(
            host: configuration.adminHost, port: configuration.adminPort, registry: registry,
            readiness: {
                draining.isSet
                    ? ReadinessReport(ready: false, checks: ["edge": "draining"])
                    : ReadinessReport(ready: true, checks: ["edge": "serving"])
            })
        try await admin.start()
        do {
            try await server.start()
        } catch {
            await admin.shutdown()
            await peers.close()
            throw error
        }
        logger.info(
            "serving",
            metadata: [
                "port": "\(server.port ?? configuration.port)",
                "protocols": "\(tls == nil ? "http/1.1" : "h2, http/1.1 over TLS")",
                "admin_port": "\(admin.port ?? configuration.adminPort)",
            ])
        let lifecycle: [any Service] = [
            AdminLifecycle(admin: admin),
            ResourcesLifecycle(close: { await peers.close() }),
            EdgeServerLifecycle(server: server, grace: configuration.shutdownGrace, draining: draining, logger: logger),
        ]
        return RunningEdge(
            port: server.port ?? configuration.port, adminPort: admin.port ?? configuration.adminPort,
            group: ServiceGroup(services: lifecycle, gracefulShutdownSignals: [], logger: logger))
    }
}

/// The TLS certificate or key could not be read.
struct TLSSetupError: Error, CustomStringConvertible {
    let description: String
}

/// The HTTP server in the service group: serves until the graceful shutdown, then drains.
struct EdgeServerLifecycle: Service {
    let server: EdgeHTTPServer
    let grace: Duration
    let draining: DrainFlag
    let logger: Logger

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await server.run()
        } onGracefulShutdown: {
            draining.set()
            logger.info("draining", metadata: ["grace": "\(grace)"])
            Task { await server.shutdown(grace: grace) }
        }
    }
}

/// A started edge: listening, serving once `run` is called, until `shutdown`.
public final class RunningEdge: Sendable {
    /// The HTTP port (useful when configured as 0).
    public let port: Int
    /// The admin port.
    public let adminPort: Int
    private let group: ServiceGroup

    init(port: Int, adminPort: Int, group: ServiceGroup) {
        self.port = port
        self.adminPort = adminPort
        self.group = group
    }

    /// Serves until the graceful shutdown has finished.
    public func run() async throws { try await group.run() }

    /// Starts the graceful shutdown: stop accepting, finish requests in flight, close.
    public func shutdown() async { await group.triggerGracefulShutdown() }
}

/// Set once the drain has begun: readiness then reports not ready.
final class DrainFlag: Sendable {
    private let value = Atomic<Bool>(false)

    /// Whether the drain has begun.
    var isSet: Bool { value.load(ordering: .relaxed) }

    /// Marks the drain as begun.
    func set() { value.store(true, ordering: .relaxed) }
}
