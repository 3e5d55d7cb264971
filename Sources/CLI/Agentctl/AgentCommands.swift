import ArgumentParser
import FlowEngine
import Foundation
import RPCCore
import RPCModels

/// `agentctl agents ...`: agents and their version history.
struct Agents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, inspect, version and delete agents.",
        subcommands: [
            AgentsList.self, AgentsGet.self, AgentsCreate.self, AgentsUpdate.self, AgentsVersions.self,
            AgentsRollback.self, AgentsDelete.self, AgentsValidate.self, AgentsSchema.self,
        ])
}

/// Options of list commands.
struct ListOptions: ParsableArguments {
    @Option(help: "The most results to show (pages are followed up to it).") var limit = 100

    func validate() throws {
        if limit < 1 { throw ValidationError("--limit must be at least 1") }
    }
}

/// Follows `next_page_token` until `limit` items are collected or the pages end.
func collectPages<Item: Sendable>(
    limit: Int, _ fetch: (_ pageSize: Int32, _ pageToken: String) async throws -> (items: [Item], next: String)
) async throws -> [Item] {
    var items: [Item] = []
    var token = ""
    repeat {
        let page = try await fetch(Int32(min(200, limit - items.count)), token)
        items += page.items
        token = page.next
    } while !token.isEmpty && items.count < limit
    return Array(items.prefix(limit))
}

extension Session {
    /// The agent client.
    var agents: Agentplane_V1_AgentService.Client { Agentplane_V1_AgentService.Client(control) }

    /// The id of the agent named `nameOrID` (a name is looked up; an id is taken as it is).
    func agentID(_ nameOrID: String) async throws -> String {
        if UUID(uuidString: nameOrID) != nil { return nameOrID }
        let matches = try await collectPages(limit: 1000) { size, token in
            let response = try await call { metadata in
                try await agents.listAgents(
                    .init(pageSize: size, pageToken: token, nameContains: nameOrID), metadata: metadata)
            }
            return (response.agents, response.nextPageToken)
        }
        guard let agent = matches.first(where: { $0.name == nameOrID }) else {
            throw RPCError(code: .notFound, message: "no agent named \"\(nameOrID)\"")
        }
        return agent.id
    }

    /// The agent (latest version, or `version`).
    func agent(_ nameOrID: String, version: Int32 = 0) async throws -> Agentplane_V1_Agent {
        let id = try await agentID(nameOrID)
        let response = try await call { metadata in
            try await agents.getAgent(.init(agentID: id, version: version), metadata: metadata)
        }
        guard let agent = response.agent else { throw RPCError(code: .notFound, message: "no agent \(nameOrID)") }
        return agent
    }
}

/// Reads a flow file; `-` is stdin.
func readFlowFile(_ path: String) throws -> String {
    let data: Data
    if path == "-" {
        data = FileHandle.standardInput.readDataToEndOfFile()
    } else {
        guard let contents = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read \(path)")
        }
        data = contents
    }
    guard let text = String(data: data, encoding: .utf8) else { throw ValidationError("\(path) is not UTF-8 text") }
    return text
}

/// Prints an agent version's summary.
func printAgent(_ agent: Agentplane_V1_Agent, output: Output, includeFlow: Bool) {
    if output.json {
        output.emit(agent.json)
        return
    }
    output.fields([
        ("name", agent.name),
        ("id", agent.id),
        ("version", "\(agent.version) of \(agent.latestVersion)"),
        ("description", agent.description),
        ("tags", agent.tags.joined(separator: ", ")),
        ("change", agent.changeMessage),
        ("restored from", agent.restoredFromVersion == 0 ? "" : "version \(agent.restoredFromVersion)"),
        ("author", agent.authorID),
        ("created", formatTime(agent.createdAt)),
        ("updated", formatTime(agent.updatedAt)),
    ])
    if includeFlow && !agent.flowJSON.isEmpty {
        Terminal.line()
        Terminal.line(agent.flowJSON.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// `agentctl agents list`.
struct AgentsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List agents by name.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var list: ListOptions
    @Option(help: "Only agents whose name contains this.") var name: String?
    @Option(help: "Only agents with this tag (repeatable).") var tag: [String] = []

    func run() async throws {
        try await Session.with(global) { session in
            let agents = try await collectPages(limit: list.limit) { size, token in
                let response = try await session.call { metadata in
                    try await session.agents.listAgents(
                        .init(pageSize: size, pageToken: token, tags: tag, nameContains: name ?? ""),
                        metadata: metadata)
                }
                return (response.agents, response.nextPageToken)
            }
            if global.json {
                global.output.emit(.object([("agents", .array(agents.map(\.json)))]))
                return
            }
            global.output.table(
                ["NAME", "VERSION", "UPDATED", "ID", "DESCRIPTION"],
                agents.map { [$0.name, String($0.latestVersion), formatTime($0.updatedAt), $0.id, $0.description] },
                empty: "No agents.")
        }
    }
}

/// `agentctl agents get`.
struct AgentsGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Show an agent (latest version, or --version N) with its flow.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent's name or id.") var agent: String
    @Option(help: "A version number; default the latest.") var version: Int32 = 0
    @Flag(help: "Print only the flow JSON (to edit and `agents update`).") var flow = false

    func run() async throws {
        try await Session.with(global) { session in
            let found = try await session.agent(agent, version: version)
            if flow {
                Terminal.line(found.flowJSON.trimmingCharacters(in: .whitespacesAndNewlines))
            } else {
                printAgent(found, output: global.output, includeFlow: true)
            }
        }
    }
}

/// `agentctl agents create`.
struct AgentsCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create an agent (version 1) from a flow file.",
        discussion: "The name and description default to the flow's own `name` and `description`.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The flow JSON file (- for stdin).") var file: String
    @Option(help: "The agent's name.") var name: String?
    @Option(help: "The agent's description.") var description: String?
    @Option(help: "A tag (repeatable).") var tag: [String] = []

    func run() async throws {
        let flow = try readFlowFile(file)
        let parsed = try? FlowEngine.JSONValue.parse(flow)
        guard let agentName = name ?? parsed?["name"]?.stringValue else {
            throw ValidationError("the flow has no \"name\"; give --name")
        }
        try await Session.with(global) { session in
            let response = try await session.call { metadata in
                try await session.agents.createAgent(
                    .init(
                        name: agentName, description: description ?? parsed?["description"]?.stringValue ?? "",
                        flowJSON: flow, tags: tag),
                    metadata: metadata)
            }
            guard let agent = response.agent else { throw CLIFailure("the server sent no agent") }
            if global.json {
                global.output.emit(agent.json)
            } else {
                Terminal.line("Created agent \(agent.name) (\(agent.id)), version \(agent.version).")
            }
        }
    }
}

/// `agentctl agents update`.
struct AgentsUpdate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "Save a new version of an agent from a flow file.",
        discussion: "Name, description and tags are kept unless given; the update fails if someone saved meanwhile.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent's name or id.") var agent: String
    @Option(help: "The flow JSON file (- for stdin).") var file: String
    @Option(help: "Why this version is made.") var message: String?
    @Option(help: "A new name.") var name: String?
    @Option(help: "A new description.") var description: String?

    func run() async throws {
        let flow = try readFlowFile(file)
        try await Session.with(global) { session in
            let current = try await session.agent(agent)
            let response = try await session.call { metadata in
                try await session.agents.updateAgent(
                    .init(
                        agentID: current.id, expectedVersion: current.latestVersion, name: name ?? current.name,
                        description: description ?? current.description, flowJSON: flow, tags: current.tags,
                        metadata: current.metadata,
                        changeMessage: message ?? "Updated from \((file as NSString).lastPathComponent)"),
                    metadata: metadata)
            }
            guard let updated = response.agent else { throw CLIFailure("the server sent no agent") }
            if global.json {
                global.output.emit(updated.json)
            } else {
                Terminal.line("Updated agent \(updated.name): version \(updated.version).")
            }
        }
    }
}

/// `agentctl agents versions`.
struct AgentsVersions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "versions", abstract: "List an agent's versions, newest first.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var list: ListOptions
    @Argument(help: "The agent's name or id.") var agent: String

    func run() async throws {
        try await Session.with(global) { session in
            let id = try await session.agentID(agent)
            let versions = try await collectPages(limit: list.limit) { size, token in
                let response = try await session.call { metadata in
                    try await session.agents.listAgentVersions(
                        .init(agentID: id, pageSize: size, pageToken: token), metadata: metadata)
                }
                return (response.versions, response.nextPageToken)
            }
            if global.json {
                global.output.emit(.object([("agent_id", .string(id)), ("versions", .array(versions.map(\.json)))]))
                return
            }
            global.output.table(
                ["VERSION", "CREATED", "AUTHOR", "MESSAGE"],
                versions.map {
                    [
                        String($0.version), formatTime($0.createdAt), $0.authorID,
                        $0.changeMessage
                            + ($0.restoredFromVersion == 0 ? "" : " (restored from version \($0.restoredFromVersion))"),
                    ]
                },
                empty: "No versions.")
        }
    }
}

/// `agentctl agents rollback`.
struct AgentsRollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback", abstract: "Make an older version the latest again (as a new version).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent's name or id.") var agent: String
    @Option(help: "The version to restore.") var to: Int32
    @Option(help: "Why (default \"Rollback to version N\").") var message: String?

    func run() async throws {
        try await Session.with(global) { session in
            let id = try await session.agentID(agent)
            let response = try await session.call { metadata in
                try await session.agents.rollbackAgent(
                    .init(agentID: id, toVersion: to, changeMessage: message ?? ""), metadata: metadata)
            }
            guard let restored = response.agent else { throw CLIFailure("the server sent no agent") }
            if global.json {
                global.output.emit(restored.json)
            } else {
                Terminal.line(
                    "Rolled back agent \(restored.name): version \(restored.version) restores version \(to).")
            }
        }
    }
}

/// `agentctl agents delete`.
struct AgentsDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete an agent and all its versions.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent's name or id.") var agent: String

    func run() async throws {
        try await Session.with(global) { session in
            let id = try await session.agentID(agent)
            _ = try await session.call { metadata in
                try await session.agents.deleteAgent(.init(agentID: id), metadata: metadata)
            }
            if global.json {
                global.output.emit(.object([("deleted", .string(id))]))
            } else {
                Terminal.line("Deleted agent \(agent) (\(id)).")
            }
        }
    }
}

/// `agentctl agents validate`.
struct AgentsValidate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Check a flow file without saving it (exit 1 when invalid).")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The flow JSON file (- for stdin).") var file: String

    func run() async throws {
        let flow = try readFlowFile(file)
        try await Session.with(global) { session in
            let response = try await session.call { metadata in
                try await session.agents.validateFlow(.init(flowJSON: flow), metadata: metadata)
            }
            if global.json {
                global.output.emit(
                    .object([
                        ("valid", .bool(response.valid)), ("errors", .array(response.errors.map(\.json))),
                        ("warnings", .array(response.warnings.map(\.json))),
                    ]))
            } else {
                let count = response.errors.count
                Terminal.line(
                    response.valid
                        ? "The flow is valid." : "The flow is invalid (\(count) error\(count == 1 ? "" : "s")):")
                for violation in response.errors {
                    Terminal.line("  - \(violation.field): \(violation.explanation) [\(violation.code)]")
                }
                if !response.warnings.isEmpty { Terminal.line("Warnings:") }
                for violation in response.warnings {
                    Terminal.line("  - \(violation.field): \(violation.explanation) [\(violation.code)]")
                }
            }
            if !response.valid { throw ExitCode(ExitStatus.failure) }
        }
    }
}
