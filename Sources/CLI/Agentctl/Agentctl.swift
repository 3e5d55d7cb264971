import ArgumentParser
import Foundation
import RPCCore

/// The command-line client of the platform: signs in, manages agents, tools and documents,
/// chats with agents and reads tickets and deliveries, through the services' gRPC APIs.
@main
struct Agentctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agentctl",
        abstract: "Agentplane's command-line client.",
        discussion: """
            Exit codes: 0 success, 1 an RPC failed (or a run failed, a flow is invalid, a service \
            is not SERVING), 2 usage error, 3 not logged in.
            """,
        subcommands: [
            Login.self, Logout.self, WhoAmI.self, Agents.self, Tools.self, Docs.self, Chat.self,
            Conversations.self, Tickets.self, Deliveries.self, Health.self,
        ])

    /// Runs the command and maps every failure to the exit codes the tool documents, instead of
    /// ArgumentParser's (which uses 64 for usage errors).
    static func main() async {
        // A reader that went away (`agentctl ... | head`) must end the program quietly.
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try await asyncParseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as CLIFailure {
            Terminal.error(failure.lines)
            Foundation.exit(failure.exitCode)
        } catch let error as ValidationError {
            // Thrown by a command's run(): the parser's usage line would be the root's, so none.
            Terminal.error([error.message])
            Foundation.exit(ExitStatus.usage)
        } catch let error as RPCError {
            Terminal.error(describe(error))
            Foundation.exit(ExitStatus.failure)
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                let message = fullMessage(for: error)
                Terminal.error([message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message])
                Foundation.exit(ExitStatus.usage)
            }
            exit(withError: error)
        }
    }
}

/// The exit codes of every command.
enum ExitStatus {
    /// An RPC failed, a run failed, a flow is invalid or a service is not serving.
    static let failure: Int32 = 1
    /// The command line is wrong.
    static let usage: Int32 = 2
    /// There are no stored credentials, or the session has ended.
    static let notLoggedIn: Int32 = 3
}

/// A failure that ends the command with its own message lines and exit code.
struct CLIFailure: Error {
    /// Printed on stderr; the first line gets the `error: ` prefix.
    var lines: [String]
    /// The process's exit code.
    var exitCode: Int32

    /// A failure with one message line.
    init(_ message: String, exitCode: Int32 = ExitStatus.failure, details: [String] = []) {
        self.lines = [message] + details
        self.exitCode = exitCode
    }

    /// The failure of a command that needs a session when there is none.
    static func notLoggedIn(_ reason: String = "not logged in") -> CLIFailure {
        CLIFailure("\(reason); run `agentctl login --tenant T --email E`", exitCode: ExitStatus.notLoggedIn)
    }
}

/// The options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The control service, host:port[,host:port...] (env AGENTPLANE_SERVER; else the server of the last login; else 127.0.0.1:7101).",
            valueName: "host:port"))
    var server: String?

    @Flag(name: .long, help: "Print JSON (one object per line for streams) instead of tables.")
    var json = false

    @Option(
        name: .customLong("config-dir"),
        help: ArgumentHelp(
            "Where login keeps credentials.json (env AGENTPLANE_CONFIG_DIR; default ~/.config/agentplane).",
            valueName: "dir"))
    var configDir: String?

    /// Where credentials live.
    var store: CredentialStore {
        CredentialStore(
            directory: configDir ?? Environment.value("AGENTPLANE_CONFIG_DIR") ?? CredentialStore.defaultDirectory)
    }

    /// How results are printed.
    var output: Output { Output(json: json) }

    /// The control address: the flag, the environment, the last login's server, the default.
    func controlAddress(stored: String?) -> String {
        server ?? Environment.value("AGENTPLANE_SERVER") ?? stored ?? "127.0.0.1:7101"
    }
}

/// Reads the process environment, treating empty values as unset.
enum Environment {
    /// The value of `name`, nil when unset or empty.
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
}
