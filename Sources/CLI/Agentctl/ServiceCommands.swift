import ArgumentParser
import Foundation
import RPCCore
import RPCModels

/// `agentctl tickets ...`: tickets in the ticketing service (the demo's built-in store).
struct Tickets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read tickets from the ticketing service.", subcommands: [TicketsList.self])
}

/// `agentctl tickets list`.
struct TicketsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List tickets, newest first.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var list: ListOptions
    @Option(
        help: ArgumentHelp(
            "The ticketing service (env AGENTPLANE_TICKETING; default 127.0.0.1:7104).", valueName: "host:port"))
    var ticketing: String?
    @Option(help: "Only tickets in this status (open, pending, resolved, closed; repeatable).") var status: [String] =
        []
    @Option(help: "Only tickets of this conversation.") var conversation: String?

    func run() async throws {
        let known: [String: Agentplane_V1_TicketStatus] = [
            "open": .open, "pending": .pending, "resolved": .resolved, "closed": .closed,
        ]
        let statuses = try status.map { name in
            guard let value = known[name.lowercased()] else {
                throw ValidationError("--status must be open, pending, resolved or closed")
            }
            return value
        }
        let address = ticketing ?? Environment.value("AGENTPLANE_TICKETING") ?? "127.0.0.1:7104"
        try await Session.with(global) { session in
            let tickets = try await withConnection(address, option: "--ticketing") { client in
                try await collectPages(limit: list.limit) { size, token in
                    let response = try await session.call { metadata in
                        try await Agentplane_V1_TicketingService.Client(client).listTickets(
                            .init(
                                pageSize: size, pageToken: token, statuses: statuses,
                                conversationID: conversation ?? ""),
                            metadata: metadata)
                    }
                    return (response.tickets, response.nextPageToken)
                }
            }
            if global.json {
                global.output.emit(.object([("tickets", .array(tickets.map(\.json)))]))
                return
            }
            global.output.table(
                ["NUMBER", "STATUS", "PRIORITY", "CREATED", "REQUESTER", "TITLE"],
                tickets.map {
                    [
                        "#\($0.number)", $0.status.name, $0.priority.name, formatTime($0.createdAt),
                        $0.requester.isEmpty ? "-" : $0.requester, $0.title,
                    ]
                },
                empty: "No tickets.")
        }
    }
}

/// `agentctl deliveries ...`: notifications sent by the notification service.
struct Deliveries: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read notification deliveries (admin).", subcommands: [DeliveriesList.self])
}

/// `agentctl deliveries list`.
struct DeliveriesList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List deliveries, newest first.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var list: ListOptions
    @Option(
        help: ArgumentHelp(
            "The notification service (env AGENTPLANE_NOTIFICATION; default 127.0.0.1:7106).", valueName: "host:port"))
    var notification: String?
    @Option(help: "Only deliveries in this status (pending, delivered, failed).") var status: String?
    @Option(help: "Only deliveries of this run.") var run: String?

    func run() async throws {
        let known: [String: Agentplane_V1_DeliveryStatus] = [
            "pending": .pending, "delivered": .delivered, "failed": .failed,
        ]
        var statusFilter = Agentplane_V1_DeliveryStatus.unspecified
        if let status {
            guard let value = known[status.lowercased()] else {
                throw ValidationError("--status must be pending, delivered or failed")
            }
            statusFilter = value
        }
        let address = notification ?? Environment.value("AGENTPLANE_NOTIFICATION") ?? "127.0.0.1:7106"
        try await Session.with(global) { session in
            let deliveries = try await withConnection(address, option: "--notification") { client in
                try await collectPages(limit: list.limit) { size, token in
                    let response = try await session.call { metadata in
                        try await Agentplane_V1_NotificationService.Client(client).listDeliveries(
                            .init(pageSize: size, pageToken: token, status: statusFilter, runID: run ?? ""),
                            metadata: metadata)
                    }
                    return (response.deliveries, response.nextPageToken)
                }
            }
            if global.json {
                global.output.emit(.object([("deliveries", .array(deliveries.map(\.json)))]))
                return
            }
            global.output.table(
                ["ID", "CHANNEL", "STATUS", "ATTEMPTS", "CREATED", "TITLE", "LAST ERROR"],
                deliveries.map {
                    [
                        $0.id, $0.channel.name, $0.status.name, "\($0.attempts)/\($0.maxAttempts)",
                        formatTime($0.createdAt), $0.title.isEmpty ? "-" : $0.title, $0.lastError,
                    ]
                },
                empty: "No deliveries.")
        }
    }
}

/// `agentctl health`: a grpc.health.v1 check, for scripts and container health checks.
struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a service's gRPC health (exit 0 iff SERVING; needs no login).")

    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("The service to check.", valueName: "host:port")) var address: String
    @Option(help: "The service name to ask about (default: the server as a whole).") var service = ""
    @Option(help: "Seconds to wait for the answer.") var timeout = 5

    func run() async throws {
        let response = try await withConnection(address, option: "--address") { client in
            try await Grpc_Health_V1_Health.Client(client).check(
                .init(service: service), options: CallOptions(timeout: .seconds(max(1, timeout))))
        }
        let name: String =
            switch response.status {
            case .serving: "SERVING"
            case .notServing: "NOT_SERVING"
            case .serviceUnknown: "SERVICE_UNKNOWN"
            default: "UNKNOWN"
            }
        if global.json {
            global.output.emit(
                .object([("address", .string(address)), ("service", .string(service)), ("status", .string(name))]))
        } else {
            Terminal.line(name)
        }
        if response.status != .serving { throw ExitCode(ExitStatus.failure) }
    }
}
