import ArgumentParser
import FlowEngine
import Foundation

/// `agentctl agents schema`: the schema of flow documents the engine exports (node kinds, their
/// fields, channel declarations, limits) as JSON. Offline: it needs no sign-in. `scripts/generate`
/// writes it into the web console's flow builder (web/src/builder/schema.generated.ts).
struct AgentsSchema: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the flow engine's schema of node kinds and their fields (JSON; offline).")

    func run() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        Terminal.line(String(decoding: try encoder.encode(FlowSchema.current), as: UTF8.self))
    }
}
