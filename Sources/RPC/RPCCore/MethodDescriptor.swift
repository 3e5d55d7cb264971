/// The four shapes of a gRPC call.
public enum CallKind: Sendable, Hashable {
    /// One request, one response.
    case unary
    /// One request, a stream of responses.
    case serverStreaming
    /// A stream of requests, one response.
    case clientStreaming
    /// Streams both ways.
    case bidirectionalStreaming

    /// Whether the client may send more than one message.
    public var isClientStreaming: Bool { self == .clientStreaming || self == .bidirectionalStreaming }
    /// Whether the server may send more than one message.
    public var isServerStreaming: Bool { self == .serverStreaming || self == .bidirectionalStreaming }

    /// The kind from the two streaming flags of a .proto method.
    public init(clientStreaming: Bool, serverStreaming: Bool) {
        switch (clientStreaming, serverStreaming) {
        case (false, false): self = .unary
        case (false, true): self = .serverStreaming
        case (true, false): self = .clientStreaming
        case (true, true): self = .bidirectionalStreaming
        }
    }
}

/// Names one method of one service, as it travels in `:path`.
public struct MethodDescriptor: Hashable, Sendable, CustomStringConvertible {
    /// The fully qualified service name, e.g. `agentplane.v1.AgentService`.
    public let service: String
    /// The method name, e.g. `CreateAgent`.
    public let method: String
    /// The call's shape.
    public let kind: CallKind
    /// `/service/method`.
    public let path: String

    /// A descriptor; generated code creates one per method.
    public init(service: String, method: String, kind: CallKind) {
        self.service = service
        self.method = method
        self.kind = kind
        self.path = "/\(service)/\(method)"
    }

    /// The path.
    public var description: String { path }
}
