public import RuntimeConfig

extension HTTPRoute {
    /// The service that serves this route, by the .proto file that declares its RPC.
    public var peer: PeerService? {
        switch protoFile {
        case "agentplane/v1/control.proto": .control
        case "agentplane/v1/execution.proto": .execution
        case "agentplane/v1/kb_search.proto": .kbSearch
        case "agentplane/v1/ticketing.proto": .ticketing
        case "agentplane/v1/notification.proto": .notification
        case "agentplane/v1/llm.proto": .llmGateway
        default: nil
        }
    }
}
