public import Logging
import Metrics
public import Prometheus
import Synchronization

/// Process-wide set-up of logging and metrics, safe to call more than once.
///
/// swift-log and swift-metrics accept one bootstrap per process and crash on a second; services,
/// tests and tools all call these instead, and only the first call takes effect.
public enum Observability {
    private static let loggingBootstrapped = Mutex(false)
    private static let metricsRegistry = Mutex<PrometheusCollectorRegistry?>(nil)

    /// Makes every `Logger` write JSON lines to standard error for `service`, at `level` and
    /// above. Returns whether this call did it; later calls change nothing.
    @discardableResult
    public static func bootstrapLogging(service: String, level: Logger.Level = .info) -> Bool {
        loggingBootstrapped.withLock { done in
            if done { return false }
            done = true
            LoggingSystem.bootstrap { label in
                JSONLogHandler(label: label, service: service, level: level)
            }
            return true
        }
    }

    /// Makes swift-metrics record into a Prometheus registry and returns it, the same one on
    /// every call, for the admin server's `/metrics`.
    ///
    /// Timers (so the RPC latency histograms) get `RPCMetrics.durationBuckets`. If MetricsSystem
    /// was already bootstrapped with a Prometheus factory elsewhere, that factory's registry is
    /// returned; with any other backend the process stops, as a second bootstrap would.
    public static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        metricsRegistry.withLock { stored in
            if let stored { return stored }
            let registry: PrometheusCollectorRegistry
            switch MetricsSystem.factory {
            case let existing as PrometheusMetricsFactory:
                registry = existing.registry
            case is NOOPMetricsHandler:
                registry = PrometheusCollectorRegistry()
                var factory = PrometheusMetricsFactory(registry: registry)
                factory.defaultDurationHistogramBuckets = RPCMetrics.durationBuckets
                MetricsSystem.bootstrap(factory)
            case let other:
                preconditionFailure("MetricsSystem is already bootstrapped with \(type(of: other))")
            }
            stored = registry
            return registry
        }
    }
}
