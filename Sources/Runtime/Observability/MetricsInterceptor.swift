public import Metrics
public import RPCCore
import Synchronization

/// Records every call a server handles: a request count and an error count by method and
/// status, a latency histogram and an in-flight gauge by method (names in `RPCMetrics`).
///
/// Place it outermost (or just inside `TracingInterceptor`) so that calls rejected by inner
/// interceptors, such as authentication, are counted with their status too.
public struct MetricsInterceptor: ServerInterceptor {
    private let metrics: MethodMetricsCache

    /// An interceptor recording through `factory`, or through `MetricsSystem` (bootstrap it
    /// first, with `Observability.bootstrapMetrics()`) when nil.
    public init(factory: (any MetricsFactory)? = nil) {
        metrics = MethodMetricsCache(
            factory: factory, requests: RPCMetrics.serverRequests, errors: RPCMetrics.serverErrors,
            duration: RPCMetrics.serverDuration, inFlight: RPCMetrics.serverInFlight)
    }

    /// Measures the rest of the call and records its status, the one `ServerCallRunner` sends.
    public func intercept(
        context: ServerContext, next: @Sendable (ServerContext) async throws -> Void
    ) async throws {
        let method = metrics.method(context.descriptor.path)
        method.inFlight?.increment()
        defer { method.inFlight?.decrement() }
        let start = ContinuousClock.now
        do {
            try await next(context)
            method.record(code: .ok, duration: .now - start)
        } catch {
            let code = ServerCallRunner.status(for: error, deadline: context.deadline).code
            method.record(code: code, duration: .now - start)
            throw error
        }
    }
}

/// Records every call a client makes to a peer service: a request count by method and status,
/// and a latency histogram by method (names in `RPCMetrics`).
public struct ClientMetricsInterceptor: ClientInterceptor {
    private let metrics: MethodMetricsCache

    /// An interceptor recording through `factory`, or through `MetricsSystem` when nil.
    public init(factory: (any MetricsFactory)? = nil) {
        metrics = MethodMetricsCache(
            factory: factory, requests: RPCMetrics.clientRequests, errors: nil,
            duration: RPCMetrics.clientDuration, inFlight: nil)
    }

    /// Measures the call, streams included, and records how it ended.
    public func intercept<Result: Sendable>(
        _ call: ClientCallInfo, next: @Sendable (ClientCallInfo) async throws -> Result
    ) async throws -> Result {
        let method = metrics.method(call.descriptor.path)
        let start = ContinuousClock.now
        do {
            let result = try await next(call)
            method.record(code: .ok, duration: .now - start)
            return result
        } catch {
            let code: Status.Code
            switch error {
            case let error as RPCError: code = error.code
            case is CancellationError: code = .cancelled
            default: code = .unknown
            }
            method.record(code: code, duration: .now - start)
            throw error
        }
    }
}

/// The metric objects of each method, made once: creating them goes through the factory's
/// registry lock and label rendering, too slow to repeat on every call.
private final class MethodMetricsCache: Sendable {
    private let factory: (any MetricsFactory)?
    private let names: MethodMetrics.Names
    private let methods = Mutex<[String: MethodMetrics]>([:])

    init(factory: (any MetricsFactory)?, requests: String, errors: String?, duration: String, inFlight: String?) {
        self.factory = factory
        self.names = MethodMetrics.Names(requests: requests, errors: errors, duration: duration, inFlight: inFlight)
    }

    func method(_ path: String) -> MethodMetrics {
        if let existing = methods.withLock({ $0[path] }) { return existing }
        // Made outside the lock: the factory takes locks of its own.
        let made = MethodMetrics(path: path, names: names, factory: factory ?? MetricsSystem.factory)
        return methods.withLock { methods in
            if let existing = methods[path] { return existing }
            methods[path] = made
            return made
        }
    }
}

/// One method's histogram and gauge, and its counters per status code.
private final class MethodMetrics: Sendable {
    struct Names: Sendable {
        let requests: String
        let errors: String?
        let duration: String
        let inFlight: String?
    }

    private struct CodeCounters: Sendable {
        let requests: Counter
        let errors: Counter?
    }

    let inFlight: Meter?
    private let duration: Timer
    private let path: String
    private let names: Names
    private let factory: any MetricsFactory
    private let counters = Mutex<[Int: CodeCounters]>([:])

    init(path: String, names: Names, factory: any MetricsFactory) {
        self.path = path
        self.names = names
        self.factory = factory
        let dimensions = [("method", path)]
        duration = Timer(label: names.duration, dimensions: dimensions, factory: factory)
        inFlight = names.inFlight.map { Meter(label: $0, dimensions: dimensions, factory: factory) }
    }

    func record(code: Status.Code, duration elapsed: Duration) {
        duration.record(duration: elapsed)
        let counters = counters(for: code)
        counters.requests.increment()
        counters.errors?.increment()
    }

    private func counters(for code: Status.Code) -> CodeCounters {
        if let existing = counters.withLock({ $0[code.rawValue] }) { return existing }
        let dimensions = [("method", path), ("code", code.description)]
        let made = CodeCounters(
            requests: Counter(label: names.requests, dimensions: dimensions, factory: factory),
            errors: code == .ok
                ? nil : names.errors.map { Counter(label: $0, dimensions: dimensions, factory: factory) })
        return counters.withLock { counters in
            if let existing = counters[code.rawValue] { return existing }
            counters[code.rawValue] = made
            return made
        }
    }
}
