import ArgumentParser
import FlowEngine
import FlowEngineProto
import Foundation
import RPCCore
import RPCModels

/// `agentctl tools ...`: the integrations flows call.
struct Tools: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, inspect, change and delete tools.",
        subcommands: [ToolsList.self, ToolsGet.self, ToolsCreate.self, ToolsUpdate.self, ToolsDelete.self])
}

extension Session {
    /// The tool client.
    var tools: Agentplane_V1_ToolService.Client { Agentplane_V1_ToolService.Client(control) }

    /// The tool with this name or id (GetTool accepts either).
    func tool(_ nameOrID: String) async throws -> Agentplane_V1_Tool {
        let response = try await call { metadata in
            try await tools.getTool(.init(toolID: nameOrID), metadata: metadata)
        }
        guard let tool = response.tool else { throw RPCError(code: .notFound, message: "no tool \(nameOrID)") }
        return tool
    }
}

/// `agentctl tools list`.
struct ToolsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List tools by name.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var list: ListOptions
    @Option(help: "Only tools of this kind (kb_search, ticketing, notification, llm, http).") var kind: String?

    func run() async throws {
        let kindFilter = try kind.map(parseToolKind) ?? .unspecified
        try await Session.with(global) { session in
            let tools = try await collectPages(limit: list.limit) { size, token in
                let response = try await session.call { metadata in
                    try await session.tools.listTools(
                        .init(pageSize: size, pageToken: token, kind: kindFilter), metadata: metadata)
                }
                return (response.tools, response.nextPageToken)
            }
            if global.json {
                global.output.emit(.object([("tools", .array(tools.map(\.json)))]))
                return
            }
            global.output.table(
                ["NAME", "KIND", "ENABLED", "SECRETS", "ID", "DESCRIPTION"],
                tools.map {
                    [
                        $0.name, $0.kind.name, $0.enabled ? "yes" : "no",
                        $0.secretNames.isEmpty ? "-" : $0.secretNames.joined(separator: ","), $0.id, $0.description,
                    ]
                },
                empty: "No tools.")
        }
    }
}

/// The tool kind named on the command line.
func parseToolKind(_ name: String) throws -> Agentplane_V1_ToolKind {
    guard let kind = Agentplane_V1_ToolKind.byName[name.lowercased()] else {
        throw ValidationError(
            "unknown tool kind \"\(name)\"; one of \(Agentplane_V1_ToolKind.byName.keys.sorted().joined(separator: ", "))"
        )
    }
    return kind
}

/// The `--config` JSON object as a Struct.
func parseConfig(_ text: String) throws -> Google_Protobuf_Struct {
    guard case .object(let members)? = try? FlowEngine.JSONValue.parse(text) else {
        throw ValidationError("--config must be a JSON object, e.g. '{\"top_k\": 3}'")
    }
    return ProtoJSON.structure(members)
}

/// The `--secret name=value` options as a map.
func parseSecrets(_ pairs: [String]) throws -> [String: String] {
    var secrets: [String: String] = [:]
    for pair in pairs {
        guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
            throw ValidationError("--secret must be name=value, not \"\(pair)\"")
        }
        secrets[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
    }
    return secrets
}

/// `agentctl tools get`.
struct ToolsGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Show a tool (secret names only, never values).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The tool's name or id.") var tool: String

    func run() async throws {
        try await Session.with(global) { session in
            let found = try await session.tool(tool)
            if global.json {
                global.output.emit(found.json)
                return
            }
            global.output.fields([
                ("name", found.name),
                ("id", found.id),
                ("kind", found.kind.name),
                ("enabled", found.enabled ? "yes" : "no"),
                ("description", found.description),
                ("config", found.config?.json.text ?? "{}"),
                ("secrets", found.secretNames.joined(separator: ", ")),
                ("input schema", found.inputSchema?.json.text ?? ""),
                ("timeout", found.timeout == nil ? "" : formatDuration(found.timeout)),
                ("revision", String(found.revision)),
                ("created", formatTime(found.createdAt)),
                ("updated", formatTime(found.updatedAt)),
            ])
        }
    }
}

/// `agentctl tools create`.
struct ToolsCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a tool.",
        discussion: """
            Examples:
              agentctl tools create --name kb_search --kind kb_search --config '{"top_k": 3}'
              agentctl tools create --name notify --kind notification --config '{"channel": "slack"}' \\
                --secret url=https://hooks.slack.com/services/...
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "The tool's name (flows refer to it).") var name: String
    @Option(help: "kb_search, ticketing, notification, llm or http.") var kind: String
    @Option(help: "The non-secret configuration, a JSON object.") var config: String?
    @Option(help: ArgumentHelp("A secret value (repeatable).", valueName: "name=value")) var secret: [String] = []
    @Option(help: "What the tool does (shown to models choosing a tool).") var description: String?
    @Option(help: "Whether flows may run it.") var enabled = true

    func run() async throws {
        let toolKind = try parseToolKind(kind)
        let configStruct = try config.map(parseConfig)
        let secrets = try parseSecrets(secret)
        try await Session.with(global) { session in
            let response = try await session.call { metadata in
                try await session.tools.createTool(
                    .init(
                        name: name, description: description ?? "", kind: toolKind, config: configStruct,
                        secrets: secrets, enabled: enabled),
                    metadata: metadata)
            }
            guard let tool = response.tool else { throw CLIFailure("the server sent no tool") }
            if global.json {
                global.output.emit(tool.json)
            } else {
                Terminal.line(
                    "Created tool \(tool.name) (\(tool.kind.name), \(tool.enabled ? "enabled" : "disabled")): \(tool.id)"
                )
            }
        }
    }
}

/// `agentctl tools update`.
struct ToolsUpdate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "Change a tool; what is not given is kept.",
        discussion: """
            --config replaces the whole configuration. --secret name=value sets a secret, \
            --secret name= deletes it; secrets not named are kept. Fails with ABORTED when \
            someone changed the tool meanwhile.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The tool's name or id.") var tool: String
    @Option(help: "A new name.") var name: String?
    @Option(help: "The new non-secret configuration, a JSON object.") var config: String?
    @Option(help: ArgumentHelp("Set (or with an empty value delete) a secret; repeatable.", valueName: "name=value"))
    var secret: [String] = []
    @Option(help: "A new description.") var description: String?
    @Option(help: "Whether flows may run it.") var enabled: Bool?

    func run() async throws {
        let configStruct = try config.map(parseConfig)
        let secrets = try parseSecrets(secret)
        try await Session.with(global) { session in
            let current = try await session.tool(tool)
            let response = try await session.call { metadata in
                try await session.tools.updateTool(
                    .init(
                        toolID: current.id, expectedRevision: current.revision, name: name ?? current.name,
                        description: description ?? current.description, config: configStruct ?? current.config,
                        secrets: secrets, inputSchema: current.inputSchema, timeout: current.timeout,
                        enabled: enabled ?? current.enabled),
                    metadata: metadata)
            }
            guard let updated = response.tool else { throw CLIFailure("the server sent no tool") }
            if global.json {
                global.output.emit(updated.json)
            } else {
                Terminal.line("Updated tool \(updated.name) (revision \(updated.revision)).")
            }
        }
    }
}

/// `agentctl tools delete`.
struct ToolsDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a tool.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The tool's name or id.") var tool: String

    func run() async throws {
        try await Session.with(global) { session in
            let found = try await session.tool(tool)
            _ = try await session.call { metadata in
                try await session.tools.deleteTool(.init(toolID: found.id), metadata: metadata)
            }
            if global.json {
                global.output.emit(.object([("deleted", .string(found.id))]))
            } else {
                Terminal.line("Deleted tool \(found.name) (\(found.id)).")
            }
        }
    }
}
