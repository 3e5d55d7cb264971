import ArgumentParser
import Foundation
import RPCCore
import RPCModels
import Synchronization

/// `agentctl chat`: talks to an agent, showing each run's steps and answer as they happen.
struct Chat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Chat with an agent.",
        discussion: """
            With --message, sends that one message; otherwise sends each line of stdin as a \
            message. Shows each run's steps (→ node (kind), ✓ node 12 ms), tool calls, the \
            answer as it streams and then the final answer. A run that pauses for input ends \
            with its question; answer it with --conversation ID --resume TEXT. Exit 1 when a \
            run fails.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The agent's name or id.") var agent: String
    @Option(help: "Continue this conversation instead of starting one.") var conversation: String?
    @Option(help: "The message to send (default: one message per line of stdin).") var message: String?
    @Option(help: "Answer the conversation's pending question with this text (needs --conversation).")
    var resume: String?

    func validate() throws {
        if resume != nil && conversation == nil { throw ValidationError("--resume needs --conversation") }
        if resume != nil && message != nil { throw ValidationError("give either --message or --resume, not both") }
    }

    func run() async throws {
        let output = global.output
        let failed = try await Session.with(global) { session in
            let conversations = Agentplane_V1_ConversationService.Client(session.control)
            let conversationID: String
            if let conversation {
                conversationID = conversation
            } else {
                let agentID = try await session.agentID(agent)
                let created = try await session.call { metadata in
                    try await conversations.createConversation(.init(agentID: agentID), metadata: metadata)
                }
                conversationID = created.conversation?.id ?? ""
            }
            var interrupt: Agentplane_V1_Interrupt?
            if resume != nil {
                let pending = try await session.call { metadata in
                    try await conversations.getConversation(.init(conversationID: conversationID), metadata: metadata)
                }
                interrupt = pending.conversation?.pendingInterrupt
                if interrupt == nil { throw CLIFailure("conversation \(conversationID) is not waiting for input") }
            }
            if output.json {
                output.emit(.object([("type", .string("conversation")), ("conversation_id", .string(conversationID))]))
            } else {
                Terminal.line("conversation \(conversationID)")
            }
            var anyFailed = false
            if let resume, let interrupt {
                let input = Agentplane_V1_HumanInput(interruptID: interrupt.interruptID, text: resume)
                anyFailed = try await session.call { metadata in
                    try await conversations.resumeConversation(
                        .init(conversationID: conversationID, input: input), metadata: metadata
                    ) { stream in
                        let renderer = RunRenderer(
                            output: output,
                            resumeHint: "agentctl chat \(agent) --conversation \(conversationID) --resume TEXT")
                        for try await item in stream { renderer.render(ChatItem(item.item)) }
                        return renderer.finish()
                    }
                }
            } else if let message {
                anyFailed = try await send(message, to: conversationID, session: session)
            } else {
                let interactive = Terminal.inputIsInteractive
                while true {
                    if interactive && !output.json { Terminal.write("you> ") }
                    guard let line = readLine(strippingNewline: true) else { break }
                    let text = line.trimmingCharacters(in: .whitespaces)
                    if text.isEmpty { continue }
                    if !interactive && !output.json { Terminal.line("you> \(text)") }
                    anyFailed = try await send(text, to: conversationID, session: session) || anyFailed
                    if !output.json { Terminal.line() }
                }
            }
            return anyFailed
        }
        if failed { throw ExitCode(ExitStatus.failure) }
    }

    /// Sends one message and renders its run; true when the run failed.
    private func send(_ text: String, to conversationID: String, session: Session) async throws -> Bool {
        let output = global.output
        let renderer = RunRenderer(
            output: output, resumeHint: "agentctl chat \(agent) --conversation \(conversationID) --resume TEXT")
        do {
            return try await session.call { metadata in
                try await Agentplane_V1_ConversationService.Client(session.control).sendMessage(
                    .init(conversationID: conversationID, content: text), metadata: metadata
                ) { stream in
                    for try await item in stream { renderer.render(ChatItem(item.item)) }
                    return renderer.finish()
                }
            }
        } catch let error as RPCError where error.code == .unavailable {
            // The stream broke, but a run that had started is durable: another execution replica
            // (or the restarted one) finishes it and saves the answer. Wait for that rather than
            // leave the person guessing; anything else is the error it was.
            renderer.interrupted()
            guard let answer = try await RunWaiter(session: session, output: output).answer(of: conversationID)
            else { throw error }
            return answer.failed
        }
    }
}

/// Follows a run whose event stream was lost until it ends, then shows its saved answer.
struct RunWaiter {
    let session: Session
    let output: Output
    /// How long to wait for a run taken over by another replica (its lease must expire first).
    static let limit: Duration = .seconds(180)

    /// The run's outcome once the conversation is no longer RUNNING; nil when the conversation
    /// had no run in progress (the call failed before a run started).
    func answer(of conversationID: String) async throws -> (failed: Bool, text: String?)? {
        let conversations = Agentplane_V1_ConversationService.Client(session.control)
        let get = { () async throws -> Agentplane_V1_Conversation? in
            try await session.call { metadata in
                try await conversations.getConversation(.init(conversationID: conversationID), metadata: metadata)
            }.conversation
        }
        guard let first = try await get(), first.status == .running, !first.activeRunID.isEmpty else { return nil }
        let runID = first.activeRunID
        if output.json {
            output.emit(.object([("type", .string("waiting_for_run")), ("run_id", .string(runID))]))
        } else {
            Terminal.line("… the execution service was lost; run \(runID) continues elsewhere — waiting for its answer")
        }
        let deadline = ContinuousClock.now + Self.limit
        var conversation = first
        while conversation.status == .running && conversation.activeRunID == runID {
            guard ContinuousClock.now < deadline else {
                throw CLIFailure(
                    "run \(runID) is still running after \(Self.limit); "
                        + "see agentctl conversations messages \(conversationID)")
            }
            try await Task.sleep(for: .milliseconds(500))
            guard let next = try await get() else { return nil }
            conversation = next
        }
        let messages = try await session.call { metadata in
            try await conversations.listMessages(
                .init(conversationID: conversationID, pageSize: 500), metadata: metadata)
        }.messages
        let saved = messages.last { $0.role == .assistant && $0.runID == runID }
        if output.json {
            var fields: [(String, JSONValue)] = [("type", .string("run_outcome")), ("run_id", .string(runID))]
            if let saved { fields.append(("message", saved.json)) }
            output.emit(.object(fields))
        } else if let saved {
            Terminal.line()
            Terminal.line(saved.content)
        } else {
            Terminal.line("✘ run \(runID) ended without an answer (it failed or was cancelled)")
        }
        return (saved == nil, saved?.content)
    }
}

/// One item of a SendMessage or ResumeConversation stream.
enum ChatItem: Sendable {
    case userMessage(Agentplane_V1_Message)
    case event(Agentplane_V1_ExecutionEvent)
    case assistantMessage(Agentplane_V1_Message)
    case none

    init(_ item: Agentplane_V1_SendMessageResponse.OneOf_Item?) {
        switch item {
        case .userMessage(let message): self = .userMessage(message)
        case .event(let event): self = .event(event)
        case .assistantMessage(let message): self = .assistantMessage(message)
        case nil: self = .none
        }
    }

    init(_ item: Agentplane_V1_ResumeConversationResponse.OneOf_Item?) {
        switch item {
        case .userMessage(let message): self = .userMessage(message)
        case .event(let event): self = .event(event)
        case .assistantMessage(let message): self = .assistantMessage(message)
        case nil: self = .none
        }
    }
}

/// Renders a run's stream as it arrives: steps, tool calls, answer deltas and the outcome.
final class RunRenderer: Sendable {
    private struct State {
        var toolNames: [String: String] = [:]
        /// True while streamed answer text has no newline after it yet.
        var answerLineOpen = false
        var failed = false
        var finalAnswer: String?
        var seen: Set<Int64> = []
    }

    private let output: Output
    private let resumeHint: String
    private let state = Mutex(State())

    /// A renderer printing to `output`; `resumeHint` is the command that answers a question.
    init(output: Output, resumeHint: String) {
        self.output = output
        self.resumeHint = resumeHint
    }

    /// Shows one item.
    func render(_ item: ChatItem) {
        switch item {
        case .userMessage(let message):
            if output.json { output.emit(.object([("type", .string("user_message")), ("message", message.json)])) }
        case .assistantMessage(let message):
            if output.json {
                output.emit(.object([("type", .string("assistant_message")), ("message", message.json)]))
            } else {
                state.withLock { $0.finalAnswer = message.content }
            }
        case .event(let event):
            // Re-sent events (a relay catching up after a reconnect) are shown once.
            guard state.withLock({ $0.seen.insert(event.sequence).inserted }) else { return }
            if output.json {
                output.emit(event.json)
                if case .runFailed = event.payload { state.withLock { $0.failed = true } }
            } else {
                renderText(event)
            }
        case .none:
            break
        }
    }

    /// Ends the stream's output; true when the run failed.
    func finish() -> Bool {
        let final = state.withLock { state -> (Bool, String?) in
            let open = state.answerLineOpen
            state.answerLineOpen = false
            if open { Terminal.line() }
            return (state.failed, state.finalAnswer)
        }
        if !output.json, let answer = final.1 {
            Terminal.line()
            Terminal.line(answer)
        }
        return final.0
    }

    /// Ends the output of a stream that broke off (closes a half-printed answer line).
    func interrupted() {
        if !output.json { closeAnswerLine() }
    }

    private func closeAnswerLine() {
        state.withLock { state in
            if state.answerLineOpen {
                Terminal.line()
                state.answerLineOpen = false
            }
        }
    }

    private func renderText(_ event: Agentplane_V1_ExecutionEvent) {
        switch event.payload {
        case .nodeStarted(let node):
            closeAnswerLine()
            Terminal.line("→ \(node.nodeID) (\(node.nodeKind))")
        case .nodeFinished(let node):
            closeAnswerLine()
            Terminal.line("✓ \(node.nodeID) \(formatDuration(node.elapsed))")
        case .answerDelta(let delta):
            let opening = state.withLock { state -> Bool in
                defer { state.answerLineOpen = true }
                return !state.answerLineOpen
            }
            let indented = delta.text.replacingOccurrences(of: "\n", with: "\n  ")
            Terminal.write((opening ? "  " : "") + indented)
        case .toolCall(let call):
            closeAnswerLine()
            state.withLock { $0.toolNames[call.callID] = call.toolName }
            let arguments = call.arguments?.json.text ?? "{}"
            let shown = arguments.count > 100 ? String(arguments.prefix(99)) + "…" : arguments
            Terminal.line("  ⚙ \(call.toolName) \(shown)")
        case .toolResult(let result):
            closeAnswerLine()
            let name = state.withLock { $0.toolNames[result.callID] } ?? result.toolID
            if result.isError {
                Terminal.line("  ✗ \(name) \(formatDuration(result.elapsed)): \(result.errorMessage)")
            } else {
                Terminal.line("  ✓ \(name) \(formatDuration(result.elapsed))")
            }
        case .interrupt(let interrupt):
            closeAnswerLine()
            let choices = interrupt.choices.isEmpty ? "" : " [\(interrupt.choices.joined(separator: " / "))]"
            Terminal.line("⏸ \(interrupt.nodeID) waits for input: \(interrupt.prompt)\(choices)")
            Terminal.line("  answer with: \(resumeHint)")
        case .runResumed:
            Terminal.line("▶ resumed")
        case .runFinished(let finished):
            closeAnswerLine()
            state.withLock { $0.finalAnswer = $0.finalAnswer ?? finished.answer }
            let tokens = finished.usage.map { " · \($0.totalTokens) tokens" } ?? ""
            Terminal.line("✔ run finished in \(formatDuration(finished.elapsed))\(tokens)")
        case .runFailed(let failed):
            closeAnswerLine()
            state.withLock { $0.failed = true }
            let error = failed.error
            let node = (error?.nodeID).map { $0.isEmpty ? "" : " at \($0)" } ?? ""
            Terminal.line("✗ run failed\(node): \(error?.code ?? "UNKNOWN"): \(error?.message ?? "")")
        case .runCancelled(let cancelled):
            closeAnswerLine()
            state.withLock { $0.failed = true }
            Terminal.line("✗ run cancelled\(cancelled.reason.isEmpty ? "" : ": \(cancelled.reason)")")
        case .runStarted, .none:
            break
        }
    }
}

/// `agentctl conversations ...`: past conversations and their messages.
struct Conversations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List conversations and read their messages.",
        subcommands: [ConversationsList.self, ConversationsMessages.self])
}

/// `agentctl conversations list`.
struct ConversationsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List your conversations, most recently active first.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var list: ListOptions
    @Option(help: "Only conversations with this agent (name or id).") var agent: String?
    @Flag(name: .customLong("all-users"), help: "Everyone's conversations (admin).") var allUsers = false

    func run() async throws {
        try await Session.with(global) { session in
            let client = Agentplane_V1_ConversationService.Client(session.control)
            var agentID = ""
            if let agent { agentID = try await session.agentID(agent) }
            let conversations = try await collectPages(limit: list.limit) { size, token in
                let response = try await session.call { metadata in
                    try await client.listConversations(
                        .init(pageSize: size, pageToken: token, agentID: agentID, allUsers: allUsers),
                        metadata: metadata)
                }
                return (response.conversations, response.nextPageToken)
            }
            if global.json {
                global.output.emit(.object([("conversations", .array(conversations.map(\.json)))]))
                return
            }
            // Agent names read better than ids; a failure to list them only costs the names.
            let agents = try? await collectPages(limit: 1000) { size, token in
                let response = try await session.call { metadata in
                    try await session.agents.listAgents(.init(pageSize: size, pageToken: token), metadata: metadata)
                }
                return (response.agents, response.nextPageToken)
            }
            let names = Dictionary((agents ?? []).map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
            global.output.table(
                ["ID", "AGENT", "STATUS", "LAST ACTIVITY", "TITLE"],
                conversations.map {
                    [
                        $0.id, names[$0.agentID] ?? $0.agentID, $0.status.name,
                        formatTime($0.lastMessageAt ?? $0.createdAt), $0.title,
                    ]
                },
                empty: "No conversations.")
        }
    }
}

/// `agentctl conversations messages`.
struct ConversationsMessages: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "messages", abstract: "Show a conversation's messages, oldest first.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The conversation's id.") var id: String
    @Option(help: "The most messages to show.") var limit = 1000

    func run() async throws {
        try await Session.with(global) { session in
            let client = Agentplane_V1_ConversationService.Client(session.control)
            let messages = try await collectPages(limit: max(1, limit)) { size, token in
                let response = try await session.call { metadata in
                    try await client.listMessages(
                        .init(conversationID: id, pageSize: size, pageToken: token), metadata: metadata)
                }
                return (response.messages, response.nextPageToken)
            }
            if global.json {
                global.output.emit(
                    .object([("conversation_id", .string(id)), ("messages", .array(messages.map(\.json)))]))
                return
            }
            if messages.isEmpty { Terminal.line("No messages.") }
            for (index, message) in messages.enumerated() {
                if index > 0 { Terminal.line() }
                Terminal.line("[\(formatTime(message.createdAt))] \(message.role.name):")
                for line in message.content.split(separator: "\n", omittingEmptySubsequences: false) {
                    Terminal.line("  " + line)
                }
            }
        }
    }
}
