public import RuntimeConfig

/// The ticketing service's own configuration keys (see docs/CONFIGURATION.md).
public struct TicketingSettings: Sendable {
    /// How long one call to Zammad may take (`ZAMMAD_TIMEOUT`).
    public var zammadTimeout: Duration
    /// The link shown for built-in tickets (`TICKETING_TICKET_URL`), with `{id}` and `{number}`
    /// replaced by the ticket's.
    public var ticketURLTemplate: String

    /// Settings with explicit values.
    public init(zammadTimeout: Duration = .seconds(10), ticketURLTemplate: String = "/tickets/{id}") {
        self.zammadTimeout = zammadTimeout
        self.ticketURLTemplate = ticketURLTemplate
    }

    /// Reads the keys, recording bad values in the reader so they are reported with the common ones.
    public static func read(_ reader: inout ConfigReader) -> TicketingSettings {
        let timeout = reader.duration("ZAMMAD_TIMEOUT", default: .seconds(10))
        if timeout <= .zero {
            reader.recordProblem("ZAMMAD_TIMEOUT", "ZAMMAD_TIMEOUT must be longer than zero")
        }
        let template = reader.string("TICKETING_TICKET_URL", default: "/tickets/{id}")
        return TicketingSettings(zammadTimeout: timeout, ticketURLTemplate: template)
    }

    /// The built-in ticket's link.
    func builtinURL(id: String, number: Int64) -> String {
        ticketURLTemplate.replacingOccurrences(of: "{id}", with: id)
            .replacingOccurrences(of: "{number}", with: String(number))
    }
}
