public import RPCCore
public import RPCModels
import Synchronization

/// `grpc.health.v1.Health`: whether the server, and each service on it, is serving.
///
/// The empty service name stands for the whole server. Every service registered with the
/// server starts as SERVING; `setStatus` changes one and wakes its watchers.
public final class HealthService: Grpc_Health_V1_Health.ServiceProtocol {
    /// A service's status.
    public typealias ServingStatus = Grpc_Health_V1_HealthCheckResponse.ServingStatus

    private struct State {
        var statuses: [String: ServingStatus] = [:]
        var watchers: [Int: (service: String, continuation: AsyncStream<ServingStatus>.Continuation)] = [:]
        var nextWatcher = 0
    }

    private let state = Mutex(State())

    /// A health service reporting SERVING for the server and for each of `services`.
    public init(services: [String]) {
        state.withLock { state in
            state.statuses[""] = .serving
            for service in services { state.statuses[service] = .serving }
        }
    }

    /// Changes a service's status (adding the service if new) and tells its watchers.
    public func setStatus(_ status: ServingStatus, for service: String) {
        let watchers = state.withLock { state in
            state.statuses[service] = status
            return state.watchers.values.filter { $0.service == service }.map(\.continuation)
        }
        for watcher in watchers { watcher.yield(status) }
    }

    /// The status now; NOT_FOUND for a service the server does not know.
    public func check(request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext) async throws
        -> Grpc_Health_V1_HealthCheckResponse
    {
        guard let status = state.withLock({ $0.statuses[request.service] }) else {
            throw RPCError(code: .notFound, message: "unknown service \(ClientInput.excerpt(request.service))")
        }
        return Grpc_Health_V1_HealthCheckResponse(status: status)
    }

    /// The status now and after every change, until the caller goes away; SERVICE_UNKNOWN
    /// for a service the server does not know (yet).
    public func watch(
        request: Grpc_Health_V1_HealthCheckRequest, response: ResponseWriter<Grpc_Health_V1_HealthCheckResponse>,
        context: ServerContext
    ) async throws {
        let (updates, continuation) = AsyncStream<ServingStatus>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state in
            let id = state.nextWatcher
            state.nextWatcher += 1
            state.watchers[id] = (request.service, continuation)
            continuation.yield(state.statuses[request.service] ?? .serviceUnknown)
            return id
        }
        defer { _ = state.withLock { $0.watchers.removeValue(forKey: id) } }
        var last: ServingStatus?
        for await status in updates {
            try Task.checkCancellation()
            if status != last { try await response.write(Grpc_Health_V1_HealthCheckResponse(status: status)) }
            last = status
        }
    }
}
