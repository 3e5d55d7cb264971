public import RuntimeConfig

/// The execution service's own configuration keys (see docs/CONFIGURATION.md and docs/EXECUTION.md).
public struct ExecutionSettings: Sendable {
    /// How long a replica's claim on a run lasts without renewal (`EXECUTION_LEASE_TTL`); an
    /// orphaned run is taken over by another replica after this.
    public var leaseTTL: Duration
    /// How often replicas look for orphaned runs (`EXECUTION_RECOVERY_INTERVAL`).
    public var recoveryInterval: Duration
    /// Checkpoints kept per run, newest first (`EXECUTION_CHECKPOINT_RETENTION`).
    public var checkpointRetention: Int
    /// How long checkpoints are kept after the last write (`EXECUTION_CHECKPOINT_TTL`).
    public var checkpointTTL: Duration
    /// How long a run's events are kept after it ends (`EXECUTION_EVENT_TTL`).
    public var eventTTL: Duration
    /// The most events kept per run (`EXECUTION_EVENT_MAX`).
    public var eventMax: Int
    /// Node executions per run when the request does not say (`EXECUTION_MAX_STEPS`).
    public var defaultMaxSteps: Int
    /// A run's deadline when the request does not say (`EXECUTION_RUN_TIMEOUT`).
    public var defaultTimeout: Duration
    /// How long a run may wait for input before it fails with INPUT_EXPIRED (`EXECUTION_INPUT_TTL`).
    public var inputTTL: Duration
    /// Active runs per tenant (`EXECUTION_MAX_CONCURRENT_RUNS`).
    public var maxConcurrentRuns: Int
    /// How stale a running run's progress in its row (current node, step count) may be
    /// (`EXECUTION_PROGRESS_INTERVAL`); status changes are stored at once.
    public var progressInterval: Duration
    /// Whether LLM nodes go to the gateway (`LLM_GATEWAY_ADDR` set) or the built-in model.
    public var useGateway: Bool
    /// The replicas that take over each other's orphaned runs (`EXECUTION_REPLICA_GROUP`): separate
    /// deployments sharing one Redis use different groups.
    public var replicaGroup: String
    /// The most node executions any run may have (`EXECUTION_MAX_STEPS_LIMIT`): a request or a
    /// tenant asking for more gets this many.
    public var maxStepsLimit = 10_000
    /// The longest deadline any run may have (`EXECUTION_RUN_TIMEOUT_LIMIT`).
    public var runTimeoutLimit: Duration = .seconds(86_400)
    /// The largest state of a run, as compact JSON (`EXECUTION_MAX_RUN_STATE_BYTES`); tenants
    /// may only lower it.
    public var maxRunStateBytes = 1 << 20
    /// The largest output of one node, as compact JSON (`EXECUTION_MAX_NODE_OUTPUT_BYTES`).
    public var maxNodeOutputBytes = 256 << 10
    /// The largest serialized event (`EXECUTION_MAX_EVENT_BYTES`); at most 4 MiB, the message
    /// size gRPC clients accept by default.
    public var maxEventBytes = 3 << 20
    /// How long a tenant's settings (its run limits) are reused before they are read from the
    /// control plane again (`EXECUTION_TENANT_SETTINGS_TTL`).
    public var tenantSettingsTTL: Duration = .seconds(30)
    /// The most bytes of flow JSON whose validated, compiled flows a replica keeps
    /// (`EXECUTION_FLOW_CACHE_BYTES`; 0: none).
    public var flowCacheBytes = 16 << 20

    /// Settings with explicit values.
    public init(
        leaseTTL: Duration = .seconds(15), recoveryInterval: Duration = .seconds(2), checkpointRetention: Int = 50,
        checkpointTTL: Duration = .seconds(7 * 86_400), eventTTL: Duration = .seconds(86_400), eventMax: Int = 10_000,
        defaultMaxSteps: Int = 1000, defaultTimeout: Duration = .seconds(300),
        inputTTL: Duration = .seconds(7 * 86_400),
        maxConcurrentRuns: Int = 100, progressInterval: Duration = .milliseconds(250),
        useGateway: Bool = false, replicaGroup: String = "default"
    ) {
        self.leaseTTL = leaseTTL
        self.recoveryInterval = recoveryInterval
        self.checkpointRetention = checkpointRetention
        self.checkpointTTL = checkpointTTL
        self.eventTTL = eventTTL
        self.eventMax = eventMax
        self.defaultMaxSteps = defaultMaxSteps
        self.defaultTimeout = defaultTimeout
        self.inputTTL = inputTTL
        self.maxConcurrentRuns = maxConcurrentRuns
        self.progressInterval = progressInterval
        self.useGateway = useGateway
        self.replicaGroup = replicaGroup
    }

    /// Reads the keys, recording bad values in the reader so they are reported with the common ones.
    public static func read(_ reader: inout ConfigReader) -> ExecutionSettings {
        var settings = ExecutionSettings()
        settings.leaseTTL = positive(&reader, "EXECUTION_LEASE_TTL", .seconds(15))
        settings.recoveryInterval = positive(&reader, "EXECUTION_RECOVERY_INTERVAL", .seconds(2))
        settings.checkpointRetention = reader.int("EXECUTION_CHECKPOINT_RETENTION", default: 50, range: 1...10_000)
        settings.checkpointTTL = positive(&reader, "EXECUTION_CHECKPOINT_TTL", .seconds(7 * 86_400))
        settings.eventTTL = positive(&reader, "EXECUTION_EVENT_TTL", .seconds(86_400))
        settings.eventMax = reader.int("EXECUTION_EVENT_MAX", default: 10_000, range: 10...1_000_000)
        settings.defaultMaxSteps = reader.int("EXECUTION_MAX_STEPS", default: 1000, range: 1...100_000)
        settings.defaultTimeout = positive(&reader, "EXECUTION_RUN_TIMEOUT", .seconds(300))
        settings.inputTTL = positive(&reader, "EXECUTION_INPUT_TTL", .seconds(7 * 86_400))
        settings.maxConcurrentRuns = reader.int("EXECUTION_MAX_CONCURRENT_RUNS", default: 100, range: 1...100_000)
        settings.progressInterval = positive(&reader, "EXECUTION_PROGRESS_INTERVAL", .milliseconds(250))
        settings.useGateway = !(reader.string("LLM_GATEWAY_ADDR") ?? "").isEmpty
        settings.replicaGroup = reader.string("EXECUTION_REPLICA_GROUP", default: "default")
        if settings.replicaGroup.isEmpty || settings.replicaGroup.contains(where: \.isWhitespace) {
            reader.recordProblem("EXECUTION_REPLICA_GROUP", "EXECUTION_REPLICA_GROUP must be a non-empty word")
        }
        settings.maxStepsLimit = reader.int("EXECUTION_MAX_STEPS_LIMIT", default: 10_000, range: 1...1_000_000)
        settings.runTimeoutLimit = positive(&reader, "EXECUTION_RUN_TIMEOUT_LIMIT", .seconds(86_400))
        if settings.runTimeoutLimit > .seconds(365 * 86_400) {
            reader.recordProblem("EXECUTION_RUN_TIMEOUT_LIMIT", "EXECUTION_RUN_TIMEOUT_LIMIT must be at most 8760h")
        }
        settings.maxRunStateBytes = reader.int(
            "EXECUTION_MAX_RUN_STATE_BYTES", default: 1 << 20, range: 1024...(256 << 20))
        settings.maxNodeOutputBytes = reader.int(
            "EXECUTION_MAX_NODE_OUTPUT_BYTES", default: 256 << 10, range: 1024...(256 << 20))
        settings.maxEventBytes = reader.int("EXECUTION_MAX_EVENT_BYTES", default: 3 << 20, range: 1024...(4 << 20))
        settings.tenantSettingsTTL = positive(&reader, "EXECUTION_TENANT_SETTINGS_TTL", .seconds(30))
        settings.flowCacheBytes = reader.int("EXECUTION_FLOW_CACHE_BYTES", default: 16 << 20, range: 0...(1 << 30))
        return settings
    }

    private static func positive(_ reader: inout ConfigReader, _ key: String, _ fallback: Duration) -> Duration {
        let value = reader.duration(key, default: fallback)
        if value <= .zero { reader.recordProblem(key, "\(key) must be longer than zero") }
        return value
    }
}
