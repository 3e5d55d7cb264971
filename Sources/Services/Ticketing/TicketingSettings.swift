public import RuntimeConfig

/// The ticketing service's own configuration keys (see docs/CONFIGURATION.md).
public struct TicketingSettings: Sendable {
    /// How long one call to Zammad may take (`ZAMMAD_TIMEOUT`).
    public var zammadTimeout: Duration
    /// The link shown for built-in tickets (`TICKETING_TICKET_URL`), with `{id}` and `{number}`
    /// replaced by the ticket's.
    public var ticketURLTemplate: String
    /// How long a call may work with Zammad on an idempotency key or a ticket before another
    /// call may take the work over (`TICKETING_CLAIM_LEASE`); every Zammad call of that work
    /// ends within it. Longer than `zammadTimeout`.
    public var claimLease: Duration

    /// Settings with explicit values.
    public init(
        zammadTimeout: Duration = .seconds(10), ticketURLTemplate: String = "/tickets/{id}",
        claimLease: Duration = .seconds(30)
    ) {
        self.zammadTimeout = zammadTimeout
        self.ticketURLTemplate = ticketURLTemplate
        self.claimLease = claimLease
    }

    /// Reads the keys, recording bad values in the reader so they are reported with the common ones.
    public static func read(_ reader: inout ConfigReader) -> TicketingSettings {
        let timeout = reader.duration("ZAMMAD_TIMEOUT", default: .seconds(10))
        if timeout <= .zero {
            reader.recordProblem("ZAMMAD_TIMEOUT", "ZAMMAD_TIMEOUT must be longer than zero")
        }
        let template = reader.string("TICKETING_TICKET_URL", default: "/tickets/{id}")
        let lease = reader.duration("TICKETING_CLAIM_LEASE", default: .seconds(30))
        if lease <= timeout {
            reader.recordProblem(
                "TICKETING_CLAIM_LEASE", "TICKETING_CLAIM_LEASE must be longer than ZAMMAD_TIMEOUT")
        }
        return TicketingSettings(zammadTimeout: timeout, ticketURLTemplate: template, claimLease: lease)
    }

    /// The built-in ticket's link.
    func builtinURL(id: String, number: Int64) -> String {
        ticketURLTemplate.replacingOccurrences(of: "{id}", with: id)
            .replacingOccurrences(of: "{number}", with: String(number))
    }
}
