/// Names and buckets of the RPC metrics, for dashboards, alerts and tests to refer to.
///
/// Every request counter and the error counter carry the labels `method` (the full path,
/// `/package.Service/Method`) and `code` (the gRPC status name, `OK`, `NOT_FOUND`, …); the
/// histograms and the in-flight gauge carry `method`.
public enum RPCMetrics {
    /// Calls a server finished, by method and status.
    public static let serverRequests = "rpc_server_requests_total"
    /// Calls a server finished with a status other than OK, by method and status.
    public static let serverErrors = "rpc_server_errors_total"
    /// Time a server spent on a call, handler and interceptors inside the metrics one.
    public static let serverDuration = "rpc_server_duration_seconds"
    /// Calls a server is serving now.
    public static let serverInFlight = "rpc_server_in_flight"
    /// Calls a client made to peer services, by method and status.
    public static let clientRequests = "rpc_client_requests_total"
    /// Time a client waited for a call to a peer service.
    public static let clientDuration = "rpc_client_duration_seconds"

    /// Latency buckets from 1 ms to 30 s, roughly 1-2.5-5 per decade.
    public static let durationBuckets: [Duration] = [
        .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]
}
