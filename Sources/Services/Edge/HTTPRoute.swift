/// One HTTP binding of an RPC, as `proto/agentplane/v1/http.yaml` states it (the google.api.http
/// rules); the plugin writes the table of them (`HTTPRoute.all`, Generated/).
public struct HTTPRoute: Sendable, Hashable {
    /// The HTTP method of a binding.
    public enum Verb: String, Sendable, Hashable, CaseIterable {
        case get = "GET"
        case post = "POST"
        case put = "PUT"
        case patch = "PATCH"
        case delete = "DELETE"
    }

    /// The HTTP method.
    public let verb: Verb
    /// The path template, e.g. `/v1/agents/{agent_id}` (google.api.http syntax).
    public let path: String
    /// Where the request body goes: nil for no body, `*` for the whole request message, else the
    /// name of one top-level field of it.
    public let body: String?
    /// The response field sent as the HTTP body instead of the whole response; nil for the whole.
    public let responseBody: String?
    /// The gRPC service's full name, e.g. `agentplane.v1.AgentService`.
    public let service: String
    /// The method's name, e.g. `GetAgent`.
    public let method: String
    /// The request message's full name, without a leading dot.
    public let requestType: String
    /// The response message's full name, without a leading dot.
    public let responseType: String
    /// Whether the client streams requests (an upload).
    public let clientStreaming: Bool
    /// Whether the server streams responses (sent as Server-Sent Events).
    public let serverStreaming: Bool
    /// The .proto file that declares the service, e.g. `agentplane/v1/control.proto`: it names
    /// the service that serves the route.
    public let protoFile: String

    /// Creates a route; generated code calls this.
    public init(
        verb: Verb, path: String, body: String?, responseBody: String?, service: String, method: String,
        requestType: String, responseType: String, clientStreaming: Bool, serverStreaming: Bool, protoFile: String
    ) {
        self.verb = verb
        self.path = path
        self.body = body
        self.responseBody = responseBody
        self.service = service
        self.method = method
        self.requestType = requestType
        self.responseType = responseType
        self.clientStreaming = clientStreaming
        self.serverStreaming = serverStreaming
        self.protoFile = protoFile
    }
}
