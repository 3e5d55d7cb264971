import FlowEngine
import RPCCore
import RPCModels
import Saturating

/// The limits one run gets: what the request asks for, lowered to the tenant's settings and the
/// platform's maxima (docs/EXECUTION.md, "Limits"). Stored with the run, so a resume or a
/// takeover runs under the limits it started with.
struct RunCaps: Sendable, Equatable {
    /// Node executions.
    var maxSteps: Int
    /// The run's deadline (active time).
    var timeout: Duration
    /// The largest state, as compact JSON.
    var maxStateBytes: Int
    /// The largest output of one node, as compact JSON.
    var maxNodeOutputBytes: Int
    /// The largest serialized event.
    var maxEventBytes: Int

    /// The smallest size limit a tenant's setting gives (a smaller one gives this): every run's
    /// first events must fit.
    static let minimumSizeLimit = 1024

    /// The caps for a run asking for `steps` node executions and a deadline of `timeout` (0 /
    /// nil: the tenant's maximum, else the platform's default): a request asking for more than
    /// the tenant's maximum (or the platform's) gets the maximum; so does a tenant setting
    /// above the platform's.
    static func resolve(
        steps: Int, timeout: Duration?, tenant: Agentplane_V1_TenantSettings, platform: ExecutionSettings
    ) -> RunCaps {
        let tenantSteps = tenant.maxRunSteps > 0 ? min(Int(tenant.maxRunSteps), platform.maxStepsLimit) : nil
        let stepCeiling = tenantSteps ?? platform.maxStepsLimit
        let resolvedSteps =
            steps > 0 ? min(steps, stepCeiling) : tenantSteps ?? min(platform.defaultMaxSteps, stepCeiling)

        let tenantDuration = tenant.maxRunDuration.map(\.duration).flatMap { $0 > .zero ? $0 : nil }
        let tenantTimeout = tenantDuration.map { min($0, platform.runTimeoutLimit) }
        let timeoutCeiling = tenantTimeout ?? platform.runTimeoutLimit
        let resolvedTimeout: Duration
        if let timeout, timeout > .zero {
            resolvedTimeout = min(timeout, timeoutCeiling)
        } else {
            resolvedTimeout = tenantTimeout ?? min(platform.defaultTimeout, timeoutCeiling)
        }

        func lowered(_ tenantValue: Int64, _ maximum: Int) -> Int {
            tenantValue > 0 ? Int(min(max(tenantValue, Int64(minimumSizeLimit)), Int64(maximum))) : maximum
        }
        return RunCaps(
            maxSteps: resolvedSteps, timeout: resolvedTimeout,
            maxStateBytes: lowered(tenant.maxRunStateBytes, platform.maxRunStateBytes),
            maxNodeOutputBytes: lowered(tenant.maxNodeOutputBytes, platform.maxNodeOutputBytes),
            maxEventBytes: lowered(tenant.maxEventBytes, platform.maxEventBytes))
    }

    /// The caps stored with `record`; a value missing there (a run stored before the limit
    /// existed) is the platform's.
    static func stored(in record: RunRecord, platform: ExecutionSettings) -> RunCaps {
        RunCaps(
            maxSteps: record.maxSteps > 0 ? min(record.maxSteps, platform.maxStepsLimit) : platform.defaultMaxSteps,
            timeout: record.timeoutMilliseconds > 0
                ? min(.milliseconds(record.timeoutMilliseconds), platform.runTimeoutLimit) : platform.defaultTimeout,
            maxStateBytes: record.maxStateBytes > 0 ? record.maxStateBytes : platform.maxRunStateBytes,
            maxNodeOutputBytes: record.maxNodeOutputBytes > 0 ? record.maxNodeOutputBytes : platform.maxNodeOutputBytes,
            maxEventBytes: record.maxEventBytes > 0 ? record.maxEventBytes : platform.maxEventBytes)
    }

    /// Records the caps in `record`.
    func store(in record: inout RunRecord) {
        record.maxSteps = maxSteps
        record.timeoutMilliseconds = timeout.saturatingMilliseconds
        record.maxStateBytes = maxStateBytes
        record.maxNodeOutputBytes = maxNodeOutputBytes
        record.maxEventBytes = maxEventBytes
    }

    /// The engine's limits.
    var engineLimits: RunLimits {
        RunLimits(
            maxSteps: maxSteps, timeout: timeout, maxStateBytes: maxStateBytes, maxNodeOutputBytes: maxNodeOutputBytes)
    }
}
