import BenchmarkSupport
import Foundation

/// The command line: where the platform is, who signs in, and how much load to apply.
struct Options: Sendable {
    /// Control's gRPC address.
    var server = "127.0.0.1:7801"
    /// The tenant's slug, the owner's email and password (`scripts/platform` writes them to
    /// platform.env as AGENTPLANE_TENANT, AGENTPLANE_EMAIL, AGENTPLANE_PASSWORD).
    var tenant = ProcessInfo.processInfo.environment["AGENTPLANE_TENANT"] ?? "demo"
    var email = ProcessInfo.processInfo.environment["AGENTPLANE_EMAIL"] ?? "owner@demo.local"
    var password = ProcessInfo.processInfo.environment["AGENTPLANE_PASSWORD"] ?? ""
    /// The agent every conversation talks to.
    var agent = "support-agent"
    /// Concurrent conversations, one measurement per level, in order; `none` on the command line:
    /// no levels (the warm-up and the profile only).
    var concurrency = [1, 16, 64]
    /// Timed messages per level, spread over its conversations (at least `minimumPerConversation`
    /// each, so the higher levels may send more).
    var messages = 200
    /// The fewest timed messages one conversation sends.
    var minimumPerConversation = 4
    /// Untimed messages per conversation before the timed ones (alternating paths).
    var warmup = 2
    /// Messages per path of the profile (one at a time, with /metrics read before and after).
    var profileMessages = 20
    /// Admin ports per service, `name=port[+port...]` items separated by commas; empty: no profile
    /// of the services' RPC time.
    var adminPorts: [(service: String, ports: [Int])] = []
    /// Pids per service, `name=pid[+pid...]` items separated by commas, for the CPU accounting.
    var pids: [(service: String, pids: [Int32])] = []
    /// The platform's PostgreSQL postmaster, whose process tree (the cluster) is counted; nil: not counted.
    var postmaster: Int32?
    /// The platform's redis-server, whose process tree is counted; nil: not counted.
    var redis: Int32?
    /// A question the knowledge base answers.
    var kbQuestion = "How do I reset my password?"
    /// A question it does not answer, so the flow opens a ticket.
    /// (Both are scripts/run's, the scenario of `make run`.)
    var ticketQuestion = "The mobile app crashes every time I open the camera scanner, can you look into it?"
    /// Where the results go as JSON; empty: nowhere.
    var jsonOut = ""
    /// Free text describing the build under test (e.g. "release"), copied into the results.
    var label = "debug"
    /// A single message's time limit, in seconds.
    var timeout = 120

    /// Reads `arguments` (without the program name); a bad flag ends the program.
    init(_ arguments: [String]) {
        var arguments = arguments[...]
        while let flag = arguments.popFirst() {
            guard let value = arguments.popFirst() else { fail("\(flag) needs a value") }
            switch flag {
            case "--server": server = value
            case "--tenant": tenant = value
            case "--email": email = value
            case "--password": password = value
            case "--agent": agent = value
            case "--concurrency": concurrency = value == "none" ? [] : value.split(separator: ",").map { Int($0) ?? 0 }
            case "--messages": messages = Int(value) ?? 0
            case "--min-per-conversation": minimumPerConversation = Int(value) ?? 0
            case "--warmup": warmup = Int(value) ?? -1
            case "--profile-messages": profileMessages = Int(value) ?? -1
            case "--admin-ports": adminPorts = Self.parseAdminPorts(value)
            case "--pids": pids = Self.parseAdminPorts(value).map { ($0.service, $0.ports.map { Int32($0) }) }
            case "--postgres-pid": postmaster = Self.parsePid(value)
            case "--redis-pid": redis = Self.parsePid(value)
            case "--kb-question": kbQuestion = value
            case "--ticket-question": ticketQuestion = value
            case "--json-out": jsonOut = value
            case "--label": label = value
            case "--timeout": timeout = Int(value) ?? 0
            default: fail("unknown flag \(flag); see Options.swift")
            }
        }
        guard concurrency.allSatisfy({ $0 > 0 }) else { fail("--concurrency takes positive counts or none") }
        guard messages > 0, minimumPerConversation > 0, warmup >= 0, profileMessages >= 0, timeout > 0 else {
            fail("counts must be positive")
        }
        guard !password.isEmpty else { fail("no password: pass --password or set AGENTPLANE_PASSWORD") }
        guard Address(server) != nil else { fail("--server takes host:port") }
    }

    /// Timed messages each conversation of a level with `conversations` conversations sends.
    func perConversation(_ conversations: Int) -> Int {
        max(minimumPerConversation, (messages + conversations - 1) / conversations)
    }

    /// A positive process id; anything else ends the program.
    static func parsePid(_ text: String) -> Int32 {
        guard let pid = Int32(text), pid > 0 else { fail("bad pid \(text)") }
        return pid
    }

    /// `control=7901,kb-search=7903+7913` as (service, ports) pairs.
    static func parseAdminPorts(_ text: String) -> [(service: String, ports: [Int])] {
        text.split(separator: ",").map { item in
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { fail("--admin-ports items are name=port[+port...]") }
            let ports = parts[1].split(separator: "+").map { Int($0) ?? 0 }
            guard ports.allSatisfy({ $0 > 0 }) else { fail("bad port in \(item)") }
            return (String(parts[0]), ports)
        }
    }
}

/// `host:port` split, as the transport takes it.
struct Address: Sendable {
    let host: String
    let port: Int

    /// Parses `host:port`; nil when malformed.
    init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
            return nil
        }
        host = String(text[..<colon])
        self.port = port
    }
}
