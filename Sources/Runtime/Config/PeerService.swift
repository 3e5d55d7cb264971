/// The platform's services as peers of one another: how each is named on the command line and
/// which key holds its addresses.
public enum PeerService: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Tenants, users, agents, tools, conversations: the front door.
    case control
    /// Runs agents' flows.
    case execution
    /// Document ingestion and hybrid search.
    case kbSearch = "kb-search"
    /// Tickets, built-in or through Zammad.
    case ticketing
    /// Chat completions and embeddings from the configured providers.
    case llmGateway = "llm-gateway"
    /// Slack, Teams and webhook notifications.
    case notification

    /// The executable's name, e.g. `kb-search`.
    public var executableName: String { rawValue }

    /// The key holding the peer's `host:port` list, e.g. `KB_SEARCH_ADDR`.
    public var environmentKey: String {
        rawValue.uppercased().replacing("-", with: "_") + "_ADDR"
    }

    /// The executable's name.
    public var description: String { rawValue }
}
