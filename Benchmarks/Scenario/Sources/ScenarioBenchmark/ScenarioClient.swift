import BenchmarkSupport
import Foundation
import RPCCore
import RPCModels

/// The two ways through the support-agent flow.
enum Path: String, Codable, Sendable, CaseIterable {
    /// kb_lookup → kb_helpful → answer_from_kb (an llm node streaming the answer).
    case kb
    /// kb_lookup → kb_helpful → create_ticket → notify_support → reply_with_ticket.
    case ticket
}

/// What one message cost, as the client saw it.
struct MessageOutcome: Sendable {
    /// The path the question was meant to take.
    let expected: Path
    /// The path the run took (from its node_started events); nil when it reached neither branch.
    var taken: Path?
    /// From sending to the first SendMessageResponse (the saved user message).
    var firstItem: Double?
    /// From sending to the first execution event (run_started).
    var firstEvent: Double?
    /// From sending to the first answer_delta (only the llm branch streams).
    var firstDelta: Double?
    /// From sending to the end of the stream (after the saved assistant message).
    var final: Double?
    /// Each node's `NodeFinished.elapsed`, in milliseconds.
    var nodes: [String: Double] = [:]
    /// The run's own `RunFinished.elapsed`, in milliseconds.
    var runElapsed: Double?
    /// From sending to run_started's `emitted_at` (wall clocks of the same machine), ms.
    var runStartEmitted: Double?
    /// From sending to run_finished's `emitted_at`, ms.
    var runEndEmitted: Double?
    /// From sending to the arrival of run_finished at the client, ms.
    var runEndReceived: Double?
    /// Why the message failed; nil when it was answered.
    var error: String?
}

/// Signs in and talks to agents through control's ConversationService.
struct ScenarioClient: Sendable {
    let auth: Agentplane_V1_AuthService.Client
    let agents: Agentplane_V1_AgentService.Client
    let conversations: Agentplane_V1_ConversationService.Client
    let options: Options

    /// Clients over one connection to control.
    init(rpc: RPCClient, options: Options) {
        auth = Agentplane_V1_AuthService.Client(rpc)
        agents = Agentplane_V1_AgentService.Client(rpc)
        conversations = Agentplane_V1_ConversationService.Client(rpc)
        self.options = options
    }

    /// A fresh access token as call metadata.
    func login() async throws -> Metadata {
        let response = try await auth.login(
            Agentplane_V1_LoginRequest(tenantSlug: options.tenant, email: options.email, password: options.password))
        return ["authorization": .string("Bearer \(response.tokens?.accessToken ?? "")")]
    }

    /// The id of the agent named `options.agent`.
    func agentID(_ metadata: Metadata) async throws -> String {
        var pageToken = ""
        repeat {
            let page = try await agents.listAgents(
                Agentplane_V1_ListAgentsRequest(pageSize: 100, pageToken: pageToken), metadata: metadata)
            if let agent = page.agents.first(where: { $0.name == options.agent }) { return agent.id }
            pageToken = page.nextPageToken
        } while !pageToken.isEmpty
        throw RPCError(code: .notFound, message: "no agent named \(options.agent); run scripts/platform seed")
    }

    /// A new conversation with the agent.
    func startConversation(agentID: String, title: String, _ metadata: Metadata) async throws -> String {
        try await conversations.createConversation(
            Agentplane_V1_CreateConversationRequest(agentID: agentID, title: title), metadata: metadata
        ).conversation?.id ?? ""
    }

    /// The question that takes `path`.
    func question(_ path: Path) -> String {
        path == .kb ? options.kbQuestion : options.ticketQuestion
    }

    /// Sends the question of `path` in `conversation` and times the stream until it ends.
    func send(_ path: Path, conversation: String, _ metadata: Metadata) async -> MessageOutcome {
        let clock = ContinuousClock()
        let began = clock.now
        let sentAt = Date()
        let request = Agentplane_V1_SendMessageRequest(conversationID: conversation, content: question(path))
        var outcome = MessageOutcome(expected: path)
        do {
            outcome = try await conversations.sendMessage(
                request, metadata: metadata, options: CallOptions(timeout: .seconds(options.timeout))
            ) { stream in
                var outcome = MessageOutcome(expected: path)
                var answered = false
                for try await item in stream {
                    let now = milliseconds(clock.now - began)
                    if outcome.firstItem == nil { outcome.firstItem = now }
                    switch item.item {
                    case .event(let event):
                        if outcome.firstEvent == nil { outcome.firstEvent = now }
                        Self.record(event, at: now, sentAt: sentAt, into: &outcome)
                    case .assistantMessage: answered = true
                    case .userMessage, nil: break
                    }
                }
                outcome.final = milliseconds(clock.now - began)
                if outcome.error == nil, !answered { outcome.error = "NO_ANSWER" }
                return outcome
            }
        } catch let error as RPCError {
            outcome.error = error.code.description
        } catch {
            outcome.error = "CLIENT: \(error)"
        }
        if outcome.error == nil, outcome.taken != path { outcome.error = "WRONG_PATH" }
        return outcome
    }

    /// Takes what the benchmark needs from one execution event.
    private static func record(
        _ event: Agentplane_V1_ExecutionEvent, at now: Double, sentAt: Date, into outcome: inout MessageOutcome
    ) {
        let emitted = event.emittedAt.map { $0.date.timeIntervalSince(sentAt) * 1000 }
        switch event.payload {
        case .nodeStarted(let started):
            if started.nodeID == "answer_from_kb" { outcome.taken = .kb }
            if started.nodeID == "create_ticket" { outcome.taken = .ticket }
        case .nodeFinished(let finished):
            if let elapsed = finished.elapsed { outcome.nodes[finished.nodeID] = milliseconds(elapsed.duration) }
        case .answerDelta:
            if outcome.firstDelta == nil { outcome.firstDelta = now }
        case .runStarted:
            outcome.runStartEmitted = emitted
        case .runFinished(let finished):
            if let elapsed = finished.elapsed { outcome.runElapsed = milliseconds(elapsed.duration) }
            outcome.runEndEmitted = emitted
            outcome.runEndReceived = now
        case .runFailed(let failed):
            outcome.error = "RUN_FAILED \(failed.error?.code ?? "")"
        case .runCancelled:
            outcome.error = "RUN_CANCELLED"
        case .interrupt:
            outcome.error = "INTERRUPTED"
        default:
            break
        }
    }
}
