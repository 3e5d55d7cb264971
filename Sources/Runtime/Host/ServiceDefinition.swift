public import RPCCore
public import RuntimeConfig
public import RuntimePostgres
public import RuntimeSecurity

/// What makes one service: its name, its schema and migrations, who may call what, and how to
/// build its handlers from the environment the host prepares.
public struct ServiceDefinition: Sendable {
    /// The executable's name, e.g. `ticketing`; labels logs, metrics and the Postgres connections.
    public var name: String
    /// The Postgres schema the service owns, migrated at start-up; nil for none.
    public var schema: String?
    /// The schema's migrations, in any order.
    public var migrations: [Migration]
    /// Public methods, minimum roles, where service tokens are accepted.
    public var authPolicy: AuthPolicy
    /// Reads the service's own configuration keys with the same reader as the common ones, so
    /// that one start-up message names every bad key; the result reaches `assemble` as
    /// `environment.settings`.
    public var readSettings: @Sendable (inout ConfigReader) -> any Sendable
    /// Builds the service's handlers and background work once the environment is ready.
    public var assemble: @Sendable (ServiceEnvironment) async throws -> ServiceAssembly

    /// A definition.
    public init(
        name: String, schema: String? = nil, migrations: [Migration] = [], authPolicy: AuthPolicy = AuthPolicy(),
        readSettings: @escaping @Sendable (inout ConfigReader) -> any Sendable = { _ in () },
        assemble: @escaping @Sendable (ServiceEnvironment) async throws -> ServiceAssembly
    ) {
        self.name = name
        self.schema = schema
        self.migrations = migrations
        self.authPolicy = authPolicy
        self.readSettings = readSettings
        self.assemble = assemble
    }
}

/// What a service's `assemble` returns.
public struct ServiceAssembly: Sendable {
    /// The gRPC services to serve (health and reflection are added by the host).
    public var services: [any RegistrableService]
    /// Long-running work (a dispatcher, a sweeper), cancelled after the server has drained.
    public var backgroundTasks: [@Sendable () async throws -> Void]
    /// Verifies `apk_` API keys; only the control plane, which stores them, has one.
    public var apiKeyVerifier: (any APIKeyVerifier)?

    /// An assembly.
    public init(
        services: [any RegistrableService], backgroundTasks: [@Sendable () async throws -> Void] = [],
        apiKeyVerifier: (any APIKeyVerifier)? = nil
    ) {
        self.services = services
        self.backgroundTasks = backgroundTasks
        self.apiKeyVerifier = apiKeyVerifier
    }
}
