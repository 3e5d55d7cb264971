import Foundation
import Logging
public import NIOPosix
import RPCCore
import RPCHTTP2
import RPCModels
public import RuntimeConfig
import RuntimeHTTP
import RuntimeObservability
import RuntimePostgres
import RuntimeRedis
import RuntimeSecurity
import ServiceLifecycle
import StandardServices

/// Runs a service: configuration, migrations, pools, auth, metrics, the admin port, health,
/// and a graceful shutdown on SIGTERM or SIGINT.
public enum ServiceHost {
    /// The entry point of a service executable: reads the configuration from the environment
    /// (and `--port`), runs until SIGTERM or SIGINT, and exits. A bad configuration exits with
    /// status 2 and one message naming every bad or missing key.
    public static func main(_ definition: ServiceDefinition) async -> Never {
        let signals = SignalLatch()
        // Stopped while still starting (waiting for PostgreSQL, migrating): nothing is served
        // yet, and an open migration transaction rolls back when the connection goes.
        signals.onSignal { exit(1) }
        do {
            let (configuration, settings) = try loadConfiguration(definition)
            // Every task of the process (the server's handlers, runs, background loops) then
            // runs on the event loops its sockets use, instead of hopping to a pool of its own.
            let eventLoops = EventLoopTakeover.install(threads: configuration.eventLoopThreads)
            let service = try await start(
                definition, configuration: configuration, settings: settings, eventLoops: eventLoops)
            signals.onSignal { Task { await service.shutdown() } }
            try await service.run()
            exit(0)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("\(definition.name): \(error)\n".utf8))
            exit(2)
        } catch {
            FileHandle.standardError.write(Data("\(definition.name): \(error)\n".utf8))
            exit(1)
        }
    }

    /// Reads and validates the configuration — the common keys and the service's own — from
    /// `environment` (nil: the process's) and `arguments`, then starts the service (see
    /// `start(_:configuration:settings:handlingSignals:)`). Throws `ConfigurationError`
    /// naming every bad or missing key.
    public static func start(
        _ definition: ServiceDefinition, environment: [String: String]? = nil,
        arguments: [String] = CommandLine.arguments, handlingSignals: Bool = false
    ) async throws -> RunningService {
        let (configuration, settings) = try loadConfiguration(
            definition, environment: environment, arguments: arguments)
        return try await start(
            definition, configuration: configuration, settings: settings, handlingSignals: handlingSignals)
    }

    /// The common keys and the service's own, read and validated; throws `ConfigurationError`
    /// naming every bad or missing key.
    static func loadConfiguration(
        _ definition: ServiceDefinition, environment: [String: String]? = nil,
        arguments: [String] = CommandLine.arguments
    ) throws(ConfigurationError) -> (ServiceConfiguration, any Sendable) {
        var reader = ConfigReader(environment: environment, arguments: arguments)
        let configuration = ServiceConfiguration.load(service: definition.name, reader: &reader)
        let settings = definition.readSettings(&reader)
        try reader.validate()
        return (configuration, settings)
    }

    /// Prepares everything and starts listening (gRPC and admin ports); `run` then serves
    /// until shutdown (on SIGTERM or SIGINT too, `handlingSignals`). Tests use this to run a
    /// service inside their own process. The server and the clients to peers share
    /// `eventLoops`, which the caller owns; without it the service makes a group of
    /// `EVENT_LOOP_THREADS` loops and stops it when it shuts down.
    public static func start(
        _ definition: ServiceDefinition, configuration: ServiceConfiguration, settings: any Sendable = (),
        handlingSignals: Bool = false, eventLoops shared: MultiThreadedEventLoopGroup? = nil
    ) async throws -> RunningService {
        let level = Logger.Level(rawValue: configuration.logLevel.rawValue) ?? .info
        _ = Observability.bootstrapLogging(service: definition.name, level: level)
        let registry = Observability.bootstrapMetrics()
        var logger = Logger(label: "agentplane.\(definition.name)")
        logger.logLevel = level

        if let schema = definition.schema {
            try await migrate(definition, schema: schema, configuration: configuration, logger: logger)
        }
        let postgres = PostgresPool(
            configuration: .init(
                connectionString: configuration.databaseURL,
                role: PostgresMigrator.defaultApplicationRole, applicationName: definition.name))
        let redisConfiguration = try RedisConfiguration(url: configuration.redisURL)
        let tokens = try TokenIssuer(secret: configuration.jwtSecret.revealBytes())
        let verifier = try TokenVerifier(
            secret: configuration.jwtSecret.revealBytes(), cacheEntries: configuration.tokenCacheEntries)
        let secretBox = try configuration.secretBoxKeys.map { try SecretBox(keys: $0) }
        let http = OutboundHTTPClient(
            policy: OutboundURLPolicy(allowedInsecureHosts: Set(configuration.outboundAllowHosts)))
        // One group of event loops for the server and the clients to peers: a handler's calls
        // to other services then start and end on its own thread.
        let eventLoops = shared ?? MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoopThreads)
        let redis = RedisPool(configuration: redisConfiguration, eventLoopGroup: eventLoops)
        let revocations = RedisRevocationList(redis: redis)
        let peers = PeerClients(
            addresses: configuration.peers,
            interceptors: [
                TracePropagationInterceptor(),
                IdentityPropagationInterceptor(
                    issuer: tokens, serviceName: definition.name, cacheEntries: configuration.tokenCacheEntries),
                ClientMetricsInterceptor(),
                // Innermost, so metrics and traces see one logical call.
                RetryInterceptor(),
            ], eventLoops: eventLoops)
        let close: @Sendable () async -> Void = {
            await peers.close()
            try? await http.shutdown()
            postgres.close()
            redis.close()
            // Last: the server and the peers' connections run on these loops until closed.
            if shared == nil { try? await eventLoops.shutdownGracefully() }
        }
        let environment = ServiceEnvironment(
            configuration: configuration, logger: logger, postgres: postgres, redis: redis, tokens: tokens,
            verifier: verifier, revocations: revocations, secretBox: secretBox, http: http, peers: peers,
            settings: settings)

        // From here on a failure to start must release what was opened (the HTTP client traps
        // when dropped unclosed), so the process reports the cause instead of crashing.
        let assembly: ServiceAssembly
        do {
            assembly = try await definition.assemble(environment)
        } catch {
            await close()
            throw error
        }
        let (services, health) = StandardServices.adding(to: assembly.services)
        let serviceNames = Set(assembly.services.flatMap { $0.serverMethods.map(\.descriptor.service) })
        let monitor = DependencyMonitor(
            postgres: postgres, redis: redis, health: health, serviceNames: serviceNames.sorted())
        await monitor.check()

        let server = GRPCServer(
            configuration: ServerConfiguration(configuration),
            services: services,
            interceptors: [
                TracingInterceptor(),
                MetricsInterceptor(),
                AuthInterceptor(
                    verifier: verifier, policy: definition.authPolicy, revocations: revocations,
                    apiKeyVerifier: assembly.apiKeyVerifier),
                TenantLogInterceptor(),
                ErrorMappingInterceptor(logger: logger),
            ],
            eventLoopGroup: eventLoops)
        let admin = AdminServer(
            host: configuration.adminHost, port: configuration.adminPort, registry: registry,
            idleTimeout: configuration.adminIdleTimeout,
            readiness: {
                let report = monitor.report
                return ReadinessReport(ready: report.ready, checks: report.checks)
            })
        do {
            try await admin.start()
        } catch {
            await close()
            throw error
        }
        do {
            try await server.start()
        } catch {
            await admin.shutdown()
            await close()
            throw error
        }
        logger.info(
            "serving",
            metadata: [
                "port": "\(server.port ?? configuration.port)",
                "admin_port": "\(admin.port ?? configuration.adminPort)",
            ])

        // The group shuts services down in reverse order: the server drains first, then
        // background work stops, then pools close, and the admin port goes last.
        let lifecycle: [any Service] = [
            AdminLifecycle(admin: admin),
            ResourcesLifecycle(close: close),
            BackgroundLifecycle(
                tasks: assembly.backgroundTasks + [{ await monitor.run(every: .seconds(2)) }], logger: logger),
            GRPCServerLifecycle(
                server: server, monitor: monitor, gracePeriod: configuration.shutdownGrace, logger: logger),
        ]
        return RunningService(
            environment: environment, grpcPort: server.port ?? configuration.port,
            adminPort: admin.port ?? configuration.adminPort,
            group: ServiceGroup(
                services: lifecycle, gracefulShutdownSignals: handlingSignals ? [.sigterm, .sigint] : [],
                logger: logger))
    }

    /// Applies the service's migrations, waiting for PostgreSQL while it is still starting.
    private static func migrate(
        _ definition: ServiceDefinition, schema: String, configuration: ServiceConfiguration, logger: Logger
    ) async throws {
        let migrator = PostgresMigrator(connectionString: configuration.databaseURL, schema: schema)
        let deadline = ContinuousClock.now + configuration.startupTimeout
        while true {
            do {
                let applied = try await migrator.migrate(definition.migrations)
                if !applied.isEmpty {
                    logger.info("migrated", metadata: ["schema": "\(schema)", "versions": "\(applied)"])
                }
                return
            } catch let error as PostgresError where error.code == .connection && ContinuousClock.now < deadline {
                logger.warning("waiting for PostgreSQL", metadata: ["error": "\(error.message)"])
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }
}

/// A started service: listening, and serving once `run` is called, until `shutdown`.
public final class RunningService: Sendable {
    /// What the service's handlers were given.
    public let environment: ServiceEnvironment
    /// The gRPC port (useful when configured as 0).
    public let grpcPort: Int
    /// The admin HTTP port.
    public let adminPort: Int
    private let group: ServiceGroup

    init(environment: ServiceEnvironment, grpcPort: Int, adminPort: Int, group: ServiceGroup) {
        self.environment = environment
        self.grpcPort = grpcPort
        self.adminPort = adminPort
        self.group = group
    }

    /// Serves until the graceful shutdown has finished.
    public func run() async throws {
        try await group.run()
    }

    /// Starts the graceful shutdown: drain calls, stop background work, close pools.
    public func shutdown() async {
        await group.triggerGracefulShutdown()
    }
}

extension ServerConfiguration {
    /// The gRPC server's address and limits from a service's configuration keys.
    init(_ configuration: ServiceConfiguration) {
        let limits = configuration.serverLimits
        self.init(
            host: configuration.host, port: configuration.port,
            maximumReceiveMessageSize: limits.maximumReceiveMessageSize,
            maximumConcurrentStreams: UInt32(limits.maximumConcurrentStreams))
        maximumConnections = limits.maximumConnections
        idleTimeout = limits.idleTimeout > .zero ? limits.idleTimeout : nil
        maximumBufferedRequestBytes = limits.maximumBufferedRequestBytes
        maximumHeaderListSize = limits.maximumHeaderListSize
        maximumTimeout = limits.maximumTimeout
        maximumStatusMessageSize = limits.maximumStatusMessageSize
    }
}
