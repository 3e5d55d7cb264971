import ArgumentParser

/// The command-line client of the platform (placeholder until issue 9's CLI lands).
@main
struct Agentctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "agentctl", abstract: "Agentplane's command-line client.")
}
