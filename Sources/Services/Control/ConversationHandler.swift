import FlowEngine
import FlowEngineProto
import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimePostgres
import RuntimeSecurity
import Synchronization

/// ConversationService: conversations with an agent, their messages, and runs of the agent on
/// a user's message (relayed from the execution service).
struct ConversationHandler: Agentplane_V1_ConversationService.ServiceProtocol {
    let context: ControlContext
    let peers: PeerClients
    /// Reads the agent and tools a new run needs, with the user's message.
    let resolution: AgentResolution
    static let maximumContentBytes = 32 * 1024
    /// The most bytes of AppendMessage metadata (keys and values), e.g. an answer's citations.
    static let maximumMetadataBytes = 256 * 1024

    func createConversation(request: Agentplane_V1_CreateConversationRequest, context server: ServerContext)
        async throws -> Agentplane_V1_CreateConversationResponse
    {
        let caller = try AuthContext.require(minimum: .member)
        if request.agentID.isEmpty { throw RPCErrors.invalid("agent_id", "MISSING_FIELD", "agent_id is required") }
        if request.agentVersion < 0 {
            throw RPCErrors.invalid("agent_version", "NEGATIVE", "agent_version must be 0 (latest) or positive")
        }
        if request.title.count > 200 {
            throw RPCErrors.invalid("title", "TOO_LONG", "title must be at most 200 characters")
        }
        if request.metadata.count > 100 {
            throw RPCErrors.invalid("metadata", "TOO_MANY", "metadata must have at most 100 entries")
        }
        let conversation = try await context.transaction(tenant: caller.tenantID) { session in
            let agent = try await AgentStore(session: session, tenant: caller.tenantID).agent(
                id: request.agentID, version: request.agentVersion)
            guard agent != nil else {
                throw RPCErrors.notFound(
                    request.agentVersion == 0 ? "agent" : "version \(request.agentVersion) of agent", request.agentID)
            }
            return try await ConversationStore(session: session, tenant: caller.tenantID).create(
                id: UUID().uuidString.lowercased(), agentID: request.agentID, version: request.agentVersion,
                title: request.title, metadata: request.metadata, author: caller.effectiveUserID)
        }
        await context.events.publish(
            tenant: caller.tenantID, type: "conversation.created", subject: conversation.id,
            actor: caller.effectiveUserID, fields: ["agent_id": conversation.agentID])
        var response = Agentplane_V1_CreateConversationResponse()
        response.conversation = conversation
        return response
    }

    func getConversation(request: Agentplane_V1_GetConversationRequest, context server: ServerContext) async throws
        -> Agentplane_V1_GetConversationResponse
    {
        let caller = try Self.reader()
        let read = { @Sendable in
            try await context.transaction(tenant: caller.tenantID) { session in
                try await visible(
                    request.conversationID, caller: caller, store: .init(session: session, tenant: caller.tenantID))
            }
        }
        var conversation = try await read()
        // A run that ended while nobody relayed it (taken over after the execution service was
        // lost) left the conversation RUNNING: show it as it stands, not as the relay left it.
        if try await reconcile(conversation, caller: caller) { conversation = try await read() }
        var response = Agentplane_V1_GetConversationResponse()
        response.conversation = conversation
        return response
    }

    func listConversations(request: Agentplane_V1_ListConversationsRequest, context server: ServerContext)
        async throws -> Agentplane_V1_ListConversationsResponse
    {
        let caller = try Self.reader()
        let everyone = caller.role == .service || caller.role.satisfies(.admin)
        if request.allUsers, !everyone {
            throw RPCError(code: .permissionDenied, message: "all_users needs the admin role or above")
        }
        let limit = try Pagination.pageSize(request.pageSize)
        let filters = "conversations|\(request.allUsers)|\(request.agentID)|\(request.status.rawValue)"
        let cursor = try Pagination.cursor(from: request.pageToken, filters: filters)
        var after: (Int64, String)?
        if let cursor {
            guard cursor.count == 2, let micros = Int64(cursor[0]) else {
                throw RPCErrors.invalid("page_token", "INVALID_PAGE_TOKEN", "page_token is not one this call returned")
            }
            after = (micros, cursor[1])
        }
        let rows = try await context.transaction(tenant: caller.tenantID) { session in
            try await ConversationStore(session: session, tenant: caller.tenantID).list(
                createdBy: request.allUsers ? nil : caller.effectiveUserID, agentID: request.agentID,
                status: request.status, after: after, limit: limit)
        }
        var response = Agentplane_V1_ListConversationsResponse()
        response.conversations = try await reconciled(Array(rows.prefix(limit).map(\.0)), caller: caller)
        if request.status != .unspecified {
            response.conversations.removeAll { $0.status != request.status }
        }
        if rows.count > limit, let last = rows.prefix(limit).last {
            response.nextPageToken = Pagination.token(cursor: [String(last.1), last.0.id], filters: filters)
        }
        return response
    }

    func listMessages(request: Agentplane_V1_ListMessagesRequest, context server: ServerContext) async throws
        -> Agentplane_V1_ListMessagesResponse
    {
        let caller = try Self.reader()
        let limit = try Pagination.pageSize(request.pageSize, default: 100, maximum: 500)
        let filters = "messages|\(request.conversationID)"
        let after = try Pagination.cursor(from: request.pageToken, filters: filters)?.first.flatMap { Int64($0) } ?? 0
        let rows = try await context.transaction(tenant: caller.tenantID) { session in
            let store = ConversationStore(session: session, tenant: caller.tenantID)
            _ = try await visible(request.conversationID, caller: caller, store: store)
            return try await store.messages(conversationID: request.conversationID, afterSeq: after, limit: limit)
        }
        var response = Agentplane_V1_ListMessagesResponse()
        response.messages = rows.prefix(limit).map(\.0)
        if rows.count > limit, let last = rows.prefix(limit).last {
            response.nextPageToken = Pagination.token(cursor: [String(last.1)], filters: filters)
        }
        return response
    }

    func sendMessage(
        request: Agentplane_V1_SendMessageRequest, response: ResponseWriter<Agentplane_V1_SendMessageResponse>,
        context server: ServerContext
    ) async throws {
        let caller = try AuthContext.require(minimum: .member)
        if request.content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw RPCErrors.invalid("content", "MISSING_FIELD", "content must not be empty")
        }
        if request.content.utf8.count > Self.maximumContentBytes {
            throw RPCError(code: .resourceExhausted, message: "content must be at most 32 KiB")
        }
        // Nothing is written while a run is in progress: it answers ABORTED, with the history
        // untouched, so a client retrying an interrupted call cannot pile up messages. A
        // conversation left RUNNING by a run that ended elsewhere is reconciled first. The run's
        // id is chosen here and saved with the message, and the agent and its tools are read in
        // the same transaction: the execution service is handed both (run_id, resolved_agent).
        let runID = UUID().uuidString.lowercased()
        let saveUserMessage = { @Sendable in
            try await context.transaction(tenant: caller.tenantID) {
                session -> (Agentplane_V1_Conversation, Agentplane_V1_Message?, Agentplane_V1_GetAgentResponse?) in
                let store = ConversationStore(session: session, tenant: caller.tenantID)
                let conversation = try await visible(request.conversationID, caller: caller, store: store, lock: true)
                if conversation.status == .running { return (conversation, nil, nil) }
                try Self.requireIdle(conversation)
                // The agent first: a message to an agent that is gone is refused, not saved.
                guard
                    let resolved = try await resolution.agent(
                        id: conversation.agentID, version: conversation.agentVersion, includeTools: true,
                        session: session, tenant: caller.tenantID
                    ).map({ Agentplane_V1_GetAgentResponse(agent: $0.agent, tools: $0.tools) })
                else {
                    throw RPCError(
                        code: .failedPrecondition,
                        message:
                            "the conversation's agent \(conversation.agentID) (version \(conversation.agentVersion)) "
                            + "was deleted; start a conversation with another agent")
                }
                let message = try await store.append(
                    id: UUID().uuidString.lowercased(),
                    NewMessage(
                        conversationID: conversation.id, role: .user, content: request.content,
                        authorID: caller.effectiveUserID),
                    transition: .start(runID: runID))
                return (conversation, message, resolved)
            }
        }
        var (conversation, saved, agent) = try await saveUserMessage()
        if saved == nil, try await reconcile(conversation, caller: caller) {
            (conversation, saved, agent) = try await saveUserMessage()
        }
        guard let message = saved else {
            try Self.requireIdle(conversation)
            throw RPCError(code: .aborted, message: "another run of this conversation is in progress; wait for it")
        }
        await publishMessage(message, caller: caller)
        try await response.write(.init(item: .userMessage(message)))
        var execute = Agentplane_V1_ExecuteRequest()
        execute.source = .agent(
            Agentplane_V1_AgentRef(agentID: conversation.agentID, version: conversation.agentVersion))
        execute.conversationID = conversation.id
        execute.inputMessageID = message.id
        execute.input = request.content
        if let inputs = request.inputs { execute.inputs = inputs }
        execute.runID = runID
        if let agent { execute.resolvedAgent = agent }
        let run = execute
        try await relay(conversationID: conversation.id, caller: caller, recordedRunID: runID) { client, onEvents in
            try await client.execute(run) { events in try await onEvents(events) }
        } emit: { item in
            switch item {
            case .event(let event): try await response.write(.init(item: .event(event)))
            case .assistant(let message): try await response.write(.init(item: .assistantMessage(message)))
            }
        }
    }

    func appendMessage(request: Agentplane_V1_AppendMessageRequest, context server: ServerContext) async throws
        -> Agentplane_V1_AppendMessageResponse
    {
        let caller = try AuthContext.requireService()
        if request.role == .unspecified || Agentplane_V1_MessageRole.allCases.contains(request.role) == false {
            throw RPCErrors.invalid("role", "MISSING_FIELD", "role must be user, assistant, system or tool")
        }
        if request.content.isEmpty { throw RPCErrors.invalid("content", "MISSING_FIELD", "content must not be empty") }
        if request.content.utf8.count > 1 << 20 {
            throw RPCError(code: .resourceExhausted, message: "content must be at most 1 MiB")
        }
        // The metadata (an answer's citations) is bounded like the content: 100 entries, 256 KiB.
        if request.metadata.count > 100 {
            throw RPCErrors.invalid("metadata", "TOO_MANY", "metadata must have at most 100 entries")
        }
        if request.metadata.reduce(0, { $0 + $1.key.utf8.count + $1.value.utf8.count }) > Self.maximumMetadataBytes {
            throw RPCError(code: .resourceExhausted, message: "metadata must be at most 256 KiB")
        }
        let key = request.idempotencyKey.isEmpty ? nil : request.idempotencyKey
        let incoming = NewMessage(
            conversationID: request.conversationID, role: request.role, content: request.content,
            runID: request.runID, metadata: request.metadata, idempotencyKey: key)
        let saved: (Agentplane_V1_Message, Bool)
        do {
            saved = try await context.transaction(tenant: caller.tenantID) { session in
                try await append(incoming, caller: caller, store: .init(session: session, tenant: caller.tenantID))
            }
        } catch let error as PostgresError where error.code == .uniqueViolation {
            // Another call with the key committed first: answer as a replay of it.
            saved = try await context.transaction(tenant: caller.tenantID) { session in
                try await append(incoming, caller: caller, store: .init(session: session, tenant: caller.tenantID))
            }
        }
        if !saved.1 { await publishMessage(saved.0, caller: caller) }
        var response = Agentplane_V1_AppendMessageResponse()
        response.message = saved.0
        response.replayed = saved.1
        return response
    }

    func resumeConversation(
        request: Agentplane_V1_ResumeConversationRequest,
        response: ResponseWriter<Agentplane_V1_ResumeConversationResponse>, context server: ServerContext
    ) async throws {
        let caller = try AuthContext.require(minimum: .member)
        guard let input = request.input else {
            throw RPCErrors.invalid("input", "MISSING_FIELD", "input (the answer to the pending interrupt) is required")
        }
        // A structured answer without text is saved as its JSON.
        let text =
            input.text.isEmpty
            ? (input.data.map { JSONValue.object(ProtoJSON.members($0)).jsonText } ?? "") : input.text
        let (conversation, message) = try await context.transaction(tenant: caller.tenantID) { session in
            let store = ConversationStore(session: session, tenant: caller.tenantID)
            let conversation = try await visible(request.conversationID, caller: caller, store: store, lock: true)
            guard conversation.status == .waitingForInput, let pending = conversation.pendingInterrupt else {
                throw RPCError(code: .failedPrecondition, message: "the conversation is not waiting for input")
            }
            if input.interruptID != pending.interruptID {
                throw RPCError(
                    code: .aborted,
                    message:
                        "interrupt \(input.interruptID.prefix(100)) is not the pending one (\(pending.interruptID))")
            }
            // Checked before the answer is saved, so a refused one leaves no trace in the history
            // (the execution service checks it again).
            if !pending.choices.isEmpty, !pending.choices.contains(input.text) {
                throw RPCErrors.invalid(
                    "input.text", "INVALID_CHOICE",
                    "the answer must be one of: \(pending.choices.joined(separator: ", "))")
            }
            let message = try await store.append(
                id: UUID().uuidString.lowercased(),
                NewMessage(
                    conversationID: conversation.id, role: .user, content: text.isEmpty ? "(answered)" : text,
                    runID: conversation.activeRunID, authorID: caller.effectiveUserID,
                    metadata: ["interrupt_id": pending.interruptID]))
            try await store.setStatus(id: conversation.id, .running, runID: conversation.activeRunID)
            return (conversation, message)
        }
        await publishMessage(message, caller: caller)
        try await response.write(.init(item: .userMessage(message)))
        var resume = Agentplane_V1_ResumeRequest()
        resume.runID = conversation.activeRunID
        resume.input = input
        let run = resume
        try await relay(conversationID: conversation.id, caller: caller, restoreOnFailure: conversation) {
            client, onEvents in
            try await client.resume(run) { events in try await onEvents(events) }
        } emit: { item in
            switch item {
            case .event(let event): try await response.write(.init(item: .event(event)))
            case .assistant(let message): try await response.write(.init(item: .assistantMessage(message)))
            }
        }
    }

    /// Re-attaches to a conversation: the events of its current (or else last) run after
    /// `after_sequence`, then the saved answer if the run finished. For anyone who may read the
    /// conversation (members cannot call WatchRun, and sending the message again would post it
    /// twice); the edge serves it as `GET /v1/conversations/{id}/events` with `Last-Event-ID`.
    func watchConversation(
        request: Agentplane_V1_WatchConversationRequest,
        response: ResponseWriter<Agentplane_V1_WatchConversationResponse>, context server: ServerContext
    ) async throws {
        let caller = try Self.reader()
        guard request.afterSequence >= 0 else {
            throw RPCErrors.invalid("after_sequence", "OUT_OF_RANGE", "after_sequence must not be negative")
        }
        let (conversation, lastRunID) = try await context.transaction(tenant: caller.tenantID) { session in
            let store = ConversationStore(session: session, tenant: caller.tenantID)
            let conversation = try await visible(request.conversationID, caller: caller, store: store)
            let last =
                conversation.activeRunID.isEmpty ? try await store.lastRunID(conversationID: conversation.id) : nil
            return (conversation, last)
        }
        let runID = conversation.activeRunID.isEmpty ? (lastRunID ?? "") : conversation.activeRunID
        // A conversation that never ran has nothing to replay: the stream ends at once.
        guard !runID.isEmpty else { return }
        var watch = Agentplane_V1_WatchRunRequest()
        watch.runID = runID
        watch.afterSequence = request.afterSequence
        let client = Agentplane_V1_ExecutionService.Client(try peers.client(for: .execution))
        let conversationID = conversation.id
        try await client.watchRun(watch) { events in
            for try await event in events {
                try await response.write(.init(item: .event(event)))
                guard case .runFinished(let finished) = event.payload else { continue }
                let answer =
                    if let saved = Self.savedAnswer(finished, runID: runID, conversationID: conversationID) {
                        saved
                    } else {
                        try await self.assistantMessage(
                            finished, runID: runID, conversationID: conversationID, caller: caller)
                    }
                try await response.write(.init(item: .assistantMessage(answer)))
                return
            }
        }
    }

    // MARK: - Relaying a run

    /// What a relay sends to the caller.
    enum RelayItem: Sendable {
        case event(Agentplane_V1_ExecutionEvent)
        case assistant(Agentplane_V1_Message)
    }

    typealias EventHandler = @Sendable (ClientResponseStream<Agentplane_V1_ExecutionEvent>) async throws -> Void

    /// Starts the run with `start`, forwards its events, records where the run stands (RUNNING
    /// with its id, WAITING_FOR_INPUT with the interrupt, IDLE at the end) and finally sends the
    /// saved assistant message. When the call fails before the run reported its id, the
    /// conversation goes back to where it was (`restoreOnFailure`, else IDLE) and the error is
    /// returned. Once the id is known the run is durable in the execution service (another
    /// replica takes it over and saves its answer), so losing its stream keeps the conversation
    /// RUNNING with that id for the GetRun check in `reconcile`, and the caller is told the run
    /// continues.
    private func relay(
        conversationID: String, caller: AuthContext, restoreOnFailure: Agentplane_V1_Conversation? = nil,
        recordedRunID: String = "",
        start: @Sendable (Agentplane_V1_ExecutionService.Client, @escaping EventHandler) async throws -> Void,
        emit: @escaping @Sendable (RelayItem) async throws -> Void
    ) async throws {
        let tenant = caller.tenantID
        let progress = RelayProgress()
        do {
            let client = Agentplane_V1_ExecutionService.Client(try peers.client(for: .execution))
            try await start(client) { events in
                var runID = ""
                for try await event in events {
                    if runID.isEmpty, !event.runID.isEmpty {
                        runID = event.runID
                        progress.started(runID)
                        // Recorded already unless the run took another id than the one saved.
                        if runID != recordedRunID {
                            try await setStatus(tenant: tenant, conversationID, .running, runID: runID)
                        }
                    }
                    try await emit(.event(event))
                    switch event.payload {
                    case .interrupt(let interrupt):
                        try await setStatus(
                            tenant: tenant, conversationID, .waitingForInput, runID: runID, interrupt: interrupt)
                        progress.settle()
                        return
                    case .runFinished(let finished):
                        // The execution service saved the answer and ended the run in one
                        // transaction (AppendMessage): relayed as saved, without reading it back.
                        let saved = Self.savedAnswer(finished, runID: runID, conversationID: conversationID)
                        let answer =
                            if let saved { saved } else {
                                try await assistantMessage(
                                    finished, runID: runID, conversationID: conversationID, caller: caller)
                            }
                        progress.settle()
                        try await emit(.assistant(answer))
                        return
                    case .runFailed, .runCancelled:
                        try await setStatus(tenant: tenant, conversationID, .idle, runID: "")
                        progress.settle()
                        return
                    default: continue
                    }
                }
            }
        } catch {
            if progress.settled { throw error }
            let runID = progress.runID
            guard !runID.isEmpty else {
                let previous = restoreOnFailure
                try? await setStatus(
                    tenant: tenant, conversationID, previous?.status ?? .idle, runID: previous?.activeRunID ?? "",
                    interrupt: previous?.pendingInterrupt)
                throw error
            }
            throw await runContinues(
                runID, conversationID: conversationID, tenant: tenant, cause: Self.describe(error))
        }
        if !progress.settled {
            // The stream ended without a terminal event (a replica handing its runs over on
            // shutdown ends it so): without a run id there is nothing to wait for.
            guard !progress.runID.isEmpty else {
                try await setStatus(tenant: tenant, conversationID, .idle, runID: "")
                return
            }
            throw await runContinues(
                progress.runID, conversationID: conversationID, tenant: tenant,
                cause: "its stream ended before the run did")
        }
    }

    /// Leaves the conversation RUNNING with `runID` (recording the id again in case the write on
    /// its first event was what failed) and the error telling the caller the run goes on.
    private func runContinues(_ runID: String, conversationID: String, tenant: String, cause: String) async
        -> RPCError
    {
        _ = try? await context.transaction(tenant: tenant) { session in
            try await ConversationStore(session: session, tenant: tenant).adopt(id: conversationID, runID: runID)
        }
        context.logger.warning(
            "lost the execution stream of a run; the conversation stays RUNNING until the run ends",
            metadata: ["conversation": "\(conversationID)", "run": "\(runID)", "cause": "\(cause)"])
        return RPCError(
            code: .unavailable,
            message:
                "the execution service was lost (\(cause)); run \(runID) continues and its answer will be saved "
                + "to the conversation; GetConversation shows when it is done")
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? RPCError { return "\(error.code): \(error.message)" }
        return "\(error)"
    }

    /// A conversation left RUNNING by a relay that never saw its run end (the control plane
    /// restarted mid-run, or the execution stream broke and another replica took the run over):
    /// when the execution service says that run is over or unknown, the conversation is IDLE
    /// again; true when it was released. A run it reports in progress keeps it RUNNING (SendMessage
    /// answers ABORTED). Without a run id (a crash between saving the message and the run's first
    /// event) there is no run to ask about: RUNNING for longer than CONVERSATION_STALE_AFTER
    /// releases it.
    func reconcile(_ current: Agentplane_V1_Conversation, caller: AuthContext) async throws -> Bool {
        guard current.status == .running else { return false }
        let conversationID = current.id
        if current.activeRunID.isEmpty {
            let bound = context.settings.conversationStaleAfter
            let released = try await context.transaction(tenant: caller.tenantID) { session in
                try await ConversationStore(session: session, tenant: caller.tenantID).releaseUnstarted(
                    id: conversationID, olderThanMilliseconds: bound.controlMilliseconds)
            }
            if released {
                context.logger.warning(
                    "conversation released: RUNNING without a run id for longer than CONVERSATION_STALE_AFTER",
                    metadata: ["conversation": "\(conversationID)"])
            }
            return released
        }
        let over: Bool
        var unknown = false
        do {
            let client = Agentplane_V1_ExecutionService.Client(try peers.client(for: .execution))
            var request = Agentplane_V1_GetRunRequest()
            request.runID = current.activeRunID
            // Bounded: a read (GetConversation) must not hang on an execution service that does.
            let status =
                try await client.getRun(request, options: .init(timeout: Self.runCheckTimeout)).run?.status
                ?? .unspecified
            over = [.succeeded, .failed, .cancelled].contains(status)
        } catch let error as RPCError where error.code == .notFound {
            over = true
            unknown = true
        } catch {
            return false  // Unknown: keep the guard; SendMessage answers ABORTED.
        }
        guard over else { return false }
        let bound = context.settings.conversationStaleAfter
        return try await context.transaction(tenant: caller.tenantID) { session in
            let store = ConversationStore(session: session, tenant: caller.tenantID)
            // The run may be one SendMessage named but the execution service has not stored yet:
            // unknown, it is released only as a run that never started is, after the bound.
            return unknown
                ? try await store.releaseUnknownRun(
                    id: conversationID, runID: current.activeRunID, olderThanMilliseconds: bound.controlMilliseconds)
                : try await store.release(id: conversationID, runID: current.activeRunID)
        }
    }

    /// `page` with every RUNNING conversation whose run has ended shown as it stands now (as
    /// GetConversation shows it); the checks run a few at a time.
    private func reconciled(_ page: [Agentplane_V1_Conversation], caller: AuthContext) async throws
        -> [Agentplane_V1_Conversation]
    {
        let running = page.indices.filter { page[$0].status == .running }
        guard !running.isEmpty else { return page }
        var released: [Int] = []
        try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            var next = running.makeIterator()
            func add() {
                guard let index = next.next() else { return }
                let conversation = page[index]
                group.addTask { (index, try await self.reconcile(conversation, caller: caller)) }
            }
            for _ in 0..<Self.reconcileConcurrency { add() }
            while let (index, wasReleased) = try await group.next() {
                if wasReleased { released.append(index) }
                add()
            }
        }
        guard !released.isEmpty else { return page }
        var result = page
        try await context.transaction(tenant: caller.tenantID) { session in
            let store = ConversationStore(session: session, tenant: caller.tenantID)
            for index in released {
                if let fresh = try await store.conversation(id: page[index].id) { result[index] = fresh }
            }
        }
        return result
    }

    /// How many GetRun checks one ListConversations makes at once.
    static let reconcileConcurrency = 8

    /// How long `reconcile` waits for GetRun.
    static let runCheckTimeout: Duration = .seconds(5)

    /// The assistant message as the execution service saved it, when the event carries all of it
    /// (its id and time; the answer is its content).
    private static func savedAnswer(
        _ finished: Agentplane_V1_RunFinished, runID: String, conversationID: String
    ) -> Agentplane_V1_Message? {
        guard !finished.messageID.isEmpty, let created = finished.messageCreatedAt else { return nil }
        var message = Agentplane_V1_Message()
        message.id = finished.messageID
        message.conversationID = conversationID
        message.role = .assistant
        message.content = finished.answer
        message.runID = runID
        message.createdAt = created
        return message
    }

    /// The assistant message the execution service saved (RunFinished.message_id), or the answer
    /// saved now with the same key the execution service uses, so it is stored once either way;
    /// the conversation is IDLE again in the same transaction.
    private func assistantMessage(
        _ finished: Agentplane_V1_RunFinished, runID: String, conversationID: String, caller: AuthContext
    ) async throws -> Agentplane_V1_Message {
        let (message, created) = try await context.transaction(tenant: caller.tenantID) { session in
            let store = ConversationStore(session: session, tenant: caller.tenantID)
            let found: Agentplane_V1_Message?
            if !finished.messageID.isEmpty,
                let saved = try await store.message(id: finished.messageID, conversationID: conversationID)
            {
                found = saved
            } else {
                found = try await store.message(idempotencyKey: "\(runID):assistant:1")
            }
            let result: (Agentplane_V1_Message, Bool)
            if let found {
                result = (found, false)
            } else {
                let saved = try await store.append(
                    id: UUID().uuidString.lowercased(),
                    NewMessage(
                        conversationID: conversationID, role: .assistant, content: finished.answer, runID: runID,
                        idempotencyKey: "\(runID):assistant:1"))
                result = (saved, true)
            }
            try await store.setStatus(id: conversationID, .idle, runID: "")
            return result
        }
        if created { await publishMessage(message, caller: caller) }
        return message
    }

    private func setStatus(
        tenant: String, _ conversationID: String, _ status: Agentplane_V1_ConversationStatus, runID: String,
        interrupt: Agentplane_V1_Interrupt? = nil
    ) async throws {
        try await context.transaction(tenant: tenant) { session in
            try await ConversationStore(session: session, tenant: tenant).setStatus(
                id: conversationID, status, runID: runID, interrupt: interrupt)
        }
    }

    // MARK: - Helpers

    /// Saves `message` or, when its key was used, replays the saved one (FAILED_PRECONDITION if it differs).
    private func append(_ message: NewMessage, caller: AuthContext, store: ConversationStore) async throws
        -> (Agentplane_V1_Message, Bool)
    {
        // A run's answer ends the run in the conversation (IDLE) in the same statement.
        let transition: ConversationStore.RunTransition =
            message.role == .assistant && !message.runID.isEmpty ? .finish(runID: message.runID) : .none
        // The insert's foreign key checks that the conversation exists (in this tenant: the key
        // includes it), and a used key writes nothing: two statements for a new message.
        do {
            if let created = try await store.appendUnlessKeyUsed(
                id: UUID().uuidString.lowercased(), message, transition: transition, committing: true)
            {
                return (created, false)
            }
        } catch let error as PostgresError where error.code == .foreignKeyViolation {
            throw RPCErrors.notFound("conversation", message.conversationID)
        }
        guard let key = message.idempotencyKey, let saved = try await store.message(idempotencyKey: key) else {
            throw RPCError(code: .aborted, message: "the message with this idempotency_key vanished; retry")
        }
        guard saved.conversationID == message.conversationID, saved.role == message.role,
            saved.content == message.content, saved.runID == message.runID
        else {
            throw RPCError(
                code: .failedPrecondition,
                message: "idempotency_key \"\(key.prefix(100))\" was used with another message")
        }
        return (saved, true)
    }

    /// The conversation if the caller may see it: its creator, admins and above, service tokens.
    /// Others' conversations answer NOT_FOUND, as missing ones do.
    func visible(
        _ id: String, caller: AuthContext, store: ConversationStore, lock: Bool = false
    ) async throws -> Agentplane_V1_Conversation {
        if id.isEmpty { throw RPCErrors.invalid("conversation_id", "MISSING_FIELD", "conversation_id is required") }
        guard let conversation = try await store.conversation(id: id, lock: lock),
            caller.role == .service || caller.role.satisfies(.admin) || conversation.createdBy == caller.effectiveUserID
        else { throw RPCErrors.notFound("conversation", id) }
        return conversation
    }

    private static func requireIdle(_ conversation: Agentplane_V1_Conversation) throws {
        switch conversation.status {
        case .running where !conversation.activeRunID.isEmpty:
            throw RPCError(
                code: .aborted,
                message:
                    "run \(conversation.activeRunID) of this conversation is in progress; wait for it to end "
                    + "(GetConversation shows when it is done), then send the message again")
        case .running:
            throw RPCError(code: .aborted, message: "another run of this conversation is in progress; wait for it")
        case .waitingForInput:
            throw RPCError(
                code: .failedPrecondition,
                message: "the conversation is waiting for input; answer it with ResumeConversation")
        default: break
        }
    }

    private func publishMessage(_ message: Agentplane_V1_Message, caller: AuthContext) async {
        await context.events.publish(
            tenant: caller.tenantID, type: "message.created", subject: message.id, actor: caller.effectiveUserID,
            fields: ["conversation_id": message.conversationID, "role": "\(message.role)"])
    }

    /// Readers: member or above, or a service token.
    private static func reader() throws -> AuthContext {
        guard let caller = AuthContext.current else { throw RPCErrors.unauthenticated }
        if caller.role == .service { return caller }
        return try AuthContext.require(minimum: .member)
    }
}

/// What a relay has seen of its run: the run's id once reported, and whether the conversation
/// already records the run's outcome (pause or end), so a later failure must not change it.
private final class RelayProgress: Sendable {
    private let state = Mutex((runID: "", settled: false))
    var runID: String { state.withLock { $0.runID } }
    var settled: Bool { state.withLock { $0.settled } }
    func started(_ runID: String) { state.withLock { $0.runID = runID } }
    func settle() { state.withLock { $0.settled = true } }
}
